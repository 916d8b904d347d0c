// class_table.cc: build, extend and look up the class-indexed set-rule bitmaps (design in
// class_table.h).
#include "class_table.h"

#include <algorithm>

namespace palisade {

namespace {

inline void setBit(uint64_t* words, uint32_t b) { words[b >> 6] |= uint64_t(1) << (b & 63); }

// summary[w >> 6] bit (w & 63) = words[w] != 0
void summarize(const uint64_t* words, uint32_t n, uint64_t* summary, uint32_t sumWords) {
  std::fill(summary, summary + sumWords, 0);
  for (uint32_t w = 0; w < n; ++w)
    if (words[w]) setBit(summary, w);
}

}  // namespace

// ---- DportClasses -------------------------------------------------------------------------------

void DportClasses::build(const std::vector<uint32_t>& bounds) {
  const uint32_t classes = uint32_t(bounds.size());
  top_.clear();
  leaf_.clear();
  if (classes - 1 <= kSmallDportBounds) {
    for (uint32_t i = 0; i < kSmallDportBounds; ++i)
      lastBefore_[i] = i + 1 < classes ? uint16_t(bounds[i + 1] - 1) : uint16_t(65535);
    return;
  }
  std::fill(lastBefore_, lastBefore_ + kSmallDportBounds, uint16_t(65535));
  top_.resize(256);
  uint32_t k = 0;  // class of the port being placed: bounds[k] <= port < bounds[k + 1]
  for (uint32_t block = 0; block < 256; ++block) {
    const uint32_t lo = block << 8, hi = lo + 256;  // [lo, hi)
    while (k + 1 < classes && bounds[k + 1] <= lo) ++k;
    if (k + 1 >= classes || bounds[k + 1] >= hi) {
      top_[block] = kUniform | k;
      continue;
    }
    top_[block] = uint32_t(leaf_.size() >> 8);
    for (uint32_t p = lo; p < hi; ++p) {
      while (k + 1 < classes && bounds[k + 1] <= p) ++k;
      leaf_.push_back(uint16_t(k));
    }
  }
  leaf_.shrink_to_fit();
}

// ---- SetRuleForm --------------------------------------------------------------------------------

const uint32_t* SetRuleForm::ById::find(uint32_t id, uint32_t& n) const {
  auto it = std::lower_bound(keys.begin(), keys.end(), id);
  if (it == keys.end() || *it != id) return nullptr;
  const size_t k = size_t(it - keys.begin());
  n = starts[k + 1] - starts[k];
  return bits.data() + starts[k];
}

namespace {

void buildById(std::vector<std::pair<uint32_t, uint32_t>>& keyed, std::vector<uint32_t>& keys,
               std::vector<uint32_t>& starts, std::vector<uint32_t>& bits) {
  std::sort(keyed.begin(), keyed.end());
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (i == 0 || keyed[i].first != keyed[i - 1].first) {
      keys.push_back(keyed[i].first);
      starts.push_back(uint32_t(bits.size()));
    }
    bits.push_back(keyed[i].second);
  }
  starts.push_back(uint32_t(bits.size()));
}

}  // namespace

std::shared_ptr<const SetRuleForm> SetRuleForm::build(const std::vector<SetRuleInput>& in) {
  auto f = std::make_shared<SetRuleForm>();
  if (in.empty()) return f;  // no set rules: no bitmaps, no port classes (lookups never reach it)
  const uint32_t n = uint32_t(in.size());
  f->ruleCount_ = n;
  f->words_ = (n + 63) / 64;
  f->sumWords_ = (f->words_ + 63) / 64;
  const uint32_t w = f->words_, sw = f->sumWords_;
  f->rankOfBit_.resize(n);
  f->check_.resize(n);
  std::vector<std::pair<uint32_t, uint32_t>> src, dst;
  f->anyBlock_.assign(2 * size_t(sw + w), 0);
  uint64_t* anySrc = f->anyBlock_.data() + sw;
  uint64_t* anyDst = f->anyBlock_.data() + 2 * sw + w;
  for (uint32_t b = 0; b < n; ++b) {
    const SetRuleInput& r = in[b];
    f->rankOfBit_[b] = r.rank;
    f->check_[b] = Check{r.sportLo, r.sportHi, uint8_t(r.proto & r.protoMask), r.protoMask};
    if (r.srcSet == kAnySet) setBit(anySrc, b);
    else src.emplace_back(r.srcSet, b);
    if (r.dstSet == kAnySet) setBit(anyDst, b);
    else dst.emplace_back(r.dstSet, b);
  }
  summarize(anySrc, w, f->anyBlock_.data(), sw);
  summarize(anyDst, w, f->anyBlock_.data() + sw + w, sw);
  buildById(src, f->bySrc_.keys, f->bySrc_.starts, f->bySrc_.bits);
  buildById(dst, f->byDst_.keys, f->byDst_.starts, f->byDst_.bits);

  // dport classes: the elementary intervals cut by every rule's [lo, hi]
  std::vector<uint32_t> bounds{0};
  for (const SetRuleInput& r : in) {
    bounds.push_back(r.dportLo);
    if (r.dportHi < 65535) bounds.push_back(uint32_t(r.dportHi) + 1);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  const uint32_t classes = uint32_t(bounds.size());  // <= 65536: fits a u16 index
  f->dportClass_.build(bounds);
  // sweep: the bitmap of class k = rules whose range covers it
  std::vector<std::vector<uint32_t>> startsAt(classes), endsAt(classes);
  for (uint32_t b = 0; b < n; ++b) {
    startsAt[f->dportClass_.classOf(in[b].dportLo)].push_back(b);
    endsAt[f->dportClass_.classOf(in[b].dportHi)].push_back(b);
  }
  const size_t stride = size_t(sw) + w;
  f->dportBits_.assign(stride * classes, 0);
  std::vector<uint64_t> live(w, 0);
  for (uint32_t k = 0; k < classes; ++k) {
    for (uint32_t b : startsAt[k]) setBit(live.data(), b);
    uint64_t* block = f->dportBits_.data() + stride * k;
    std::copy(live.begin(), live.end(), block + sw);
    summarize(block + sw, w, block, sw);
    for (uint32_t b : endsAt[k]) live[b >> 6] &= ~(uint64_t(1) << (b & 63));
  }
  return f;
}

uint32_t SetRuleForm::firstBitAtOrAbove(uint32_t minRank) const {
  return uint32_t(std::lower_bound(rankOfBit_.begin(), rankOfBit_.end(), minRank) - rankOfBit_.begin());
}

size_t SetRuleForm::bytes() const {
  return sizeof(*this) + rankOfBit_.capacity() * 4 + check_.capacity() * sizeof(Check) +
         (bySrc_.keys.capacity() + bySrc_.starts.capacity() + bySrc_.bits.capacity() +
          byDst_.keys.capacity() + byDst_.starts.capacity() + byDst_.bits.capacity()) * 4 +
         (anyBlock_.capacity() + dportBits_.capacity()) * 8 + dportClass_.heapBytes();
}

// ---- ClassTable ---------------------------------------------------------------------------------

void ClassTable::addClasses(const ClassRegistry& registry, uint32_t from) {
  const SetRuleForm& f = *form_;
  const uint32_t w = f.words_, sw = f.sumWords_;
  blockOf_.reserve(registry.size());
  for (uint32_t c = from; c < registry.size(); ++c) {
    std::shared_ptr<std::vector<uint64_t>> block;
    for (uint32_t set : registry.setsOf(c)) {
      uint32_t n = 0;
      for (int side = 0; side < 2; ++side) {
        const uint32_t* bits = (side == 0 ? f.bySrc_ : f.byDst_).find(set, n);
        if (!bits) continue;
        if (!block) block = std::make_shared<std::vector<uint64_t>>(f.anyBlock_);
        uint64_t* words = block->data() + (side == 0 ? sw : 2 * sw + w);
        for (uint32_t k = 0; k < n; ++k) setBit(words, bits[k]);
      }
    }
    if (!block) {
      blockOf_.push_back(f.anyBlock_.data());
      continue;
    }
    summarize(block->data() + sw, w, block->data(), sw);
    summarize(block->data() + 2 * sw + w, w, block->data() + sw + w, sw);
    blockOf_.push_back(block->data());
    owned_.push_back(std::move(block));
  }
}

std::shared_ptr<const ClassTable> ClassTable::build(std::shared_ptr<const SetRuleForm> form,
                                                    const ClassRegistry& registry) {
  auto t = std::make_shared<ClassTable>();
  t->form_ = std::move(form);
  if (!t->form_->empty()) t->addClasses(registry, 0);
  return t;
}

std::shared_ptr<const ClassTable> ClassTable::extend(const std::shared_ptr<const ClassTable>& base,
                                                     const ClassRegistry& registry) {
  if (base->form_->empty() || base->blockOf_.size() >= registry.size()) return base;
  auto t = std::make_shared<ClassTable>(*base);  // copies the pointer arrays, shares the blocks
  t->addClasses(registry, uint32_t(base->blockOf_.size()));
  return t;
}

uint32_t ClassTable::lookup(uint32_t srcHost, uint32_t srcCidr, uint32_t dstHost, uint32_t dstCidr,
                            uint16_t sport, uint16_t dport, uint8_t proto, uint32_t best,
                            uint32_t minBit) const {
  const SetRuleForm& f = *form_;
  const uint32_t w = f.words_, sw = f.sumWords_;
  if (minBit >= f.ruleCount_) return best;
  const uint64_t* s1 = blockOf(srcHost);
  const uint64_t* s2 = blockOf(srcCidr);
  const uint64_t* d1 = blockOf(dstHost) + sw + w;
  const uint64_t* d2 = blockOf(dstCidr) + sw + w;
  const uint64_t* p = f.dportBits_.data() + (size_t(sw) + w) * f.dportClass_.classOf(dport);
  const uint32_t minWord = minBit >> 6;
  for (uint32_t sj = minWord >> 6; sj < sw; ++sj) {
    uint64_t sum = (s1[sj] | s2[sj]) & (d1[sj] | d2[sj]) & p[sj];
    if (sj == (minWord >> 6)) sum &= ~uint64_t(0) << (minWord & 63);
    while (sum) {
      const uint32_t wi = (sj << 6) + uint32_t(__builtin_ctzll(sum));
      sum &= sum - 1;
      uint64_t x = (s1[sw + wi] | s2[sw + wi]) & (d1[sw + wi] | d2[sw + wi]) & p[sw + wi];
      if (wi == minWord) x &= ~uint64_t(0) << (minBit & 63);
      while (x) {
        const uint32_t b = (wi << 6) + uint32_t(__builtin_ctzll(x));
        x &= x - 1;
        const uint32_t rank = f.rankOfBit_[b];
        if (rank >= best) return best;  // bits ascend in rank: nothing later can win
        const SetRuleForm::Check& c = f.check_[b];
        if (sport < c.sportLo || sport > c.sportHi || ((proto ^ c.proto) & c.protoMask) != 0) continue;
        return rank;
      }
    }
  }
  return best;
}

size_t ClassTable::bytes() const {
  size_t b = sizeof(*this) + blockOf_.capacity() * sizeof(void*) +
             owned_.capacity() * sizeof(owned_[0]);
  for (const auto& o : owned_) b += o->capacity() * 8;
  return b;
}

}  // namespace palisade
