#include "sys/syscalls.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <set>
#include <string>

namespace ftpsd::sys {
namespace {

// 64 random bits per value: 200 values are all different, and all 64 bits vary among them.
TEST(KernelRandom, DrawsIndependentSixtyFourBitValues) {
  static_assert(std::uniform_random_bit_generator<KernelRandom>);
  KernelRandom random;
  std::set<std::uint64_t> values;
  std::uint64_t ones = 0;
  std::uint64_t zeros = 0;
  for (int i = 0; i < 200; ++i) {
    const auto v = random();
    values.insert(v);
    ones |= v;
    zeros |= ~v;
  }
  EXPECT_EQ(values.size(), 200u);
  EXPECT_EQ(ones, ~std::uint64_t{0});
  EXPECT_EQ(zeros, ~std::uint64_t{0});
}

// A file just written is in the page cache: pread_cached returns it without the worker pool.
TEST(PreadCached, ReadsWhatThePageCacheHoldsAndZeroAtTheEnd) {
  char name[] = "/tmp/ftpsd-pread-XXXXXX";
  const int fd = ::mkstemp(name);
  ASSERT_GE(fd, 0);
  ::unlink(name);
  const std::string content = "0123456789abcdef";
  ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));

  char buf[64] = {};
  auto whole = pread_cached(fd, buf, sizeof buf, 0);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(std::string(buf, *whole), content);

  auto tail = pread_cached(fd, buf, 4, 10);
  ASSERT_TRUE(tail.has_value());
  EXPECT_EQ(std::string(buf, *tail), "abcd");

  auto end = pread_cached(fd, buf, sizeof buf, content.size());
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(*end, 0U);
  ::close(fd);
}

TEST(PreadCached, ABadDescriptorIsNoResultNotACrash) {
  char buf[8];
  EXPECT_FALSE(pread_cached(-1, buf, sizeof buf, 0).has_value());
}

}  // namespace
}  // namespace ftpsd::sys
