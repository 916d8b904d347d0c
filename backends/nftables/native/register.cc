// Adds the nftables glue (nft.h) to the one addon, build/Release/palisade.node, through the
// addon's registration hook (addon/napi/register.h). Not part of the private build-nft test build.
#include "napi/register.h"
#include "nft.h"

PALISADE_NATIVE_EXPORTS(RegisterNftables)
