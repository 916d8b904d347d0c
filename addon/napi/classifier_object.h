// classifier_object.h: registers the JS class `Classifier` (see classifier_object.cc).
#pragma once
#include <napi.h>

namespace palisade::napi {
void RegisterClassifier(Napi::Env env, Napi::Object exports);
}
