#include "prescale/common/block_deque.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

using prescale::BlockDeque;

namespace {

template <class Deque>
std::vector<std::string> contents(const Deque& d) {
  return std::vector<std::string>(d.begin(), d.end());
}

// A tiny LCG: the same operations everywhere.
struct Draw {
  std::uint64_t state = 42;
  std::uint64_t next(std::uint64_t below) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % below;
  }
};

}  // namespace

TEST_CASE("a block deque holds what a std::deque holds under any mix of operations",
          "[block_deque]") {
  BlockDeque<std::string, 4> blocks;
  std::deque<std::string> model;
  Draw draw;
  int next = 0;
  for (int step = 0; step < 5000; ++step) {
    const auto op = draw.next(10);
    if (op < 5 || model.empty()) {
      blocks.push_back(std::to_string(next));
      model.push_back(std::to_string(next++));
    } else if (op < 7) {
      blocks.pop_front();
      model.pop_front();
    } else if (op < 9) {
      blocks.pop_back();
      model.pop_back();
    } else if (draw.next(20) == 0) {
      blocks.clear();
      model.clear();
    } else {
      // Older values before the front, as many as 0 to 9 (up to two blocks and a bit).
      std::vector<std::string> older;
      const auto count = draw.next(10);
      for (std::uint64_t i = 0; i < count; ++i) older.push_back("older " + std::to_string(next++));
      blocks.prepend(older);
      model.insert(model.begin(), older.begin(), older.end());
    }
    REQUIRE(blocks.size() == model.size());
    REQUIRE(blocks.empty() == model.empty());
    if (!model.empty()) {
      REQUIRE(blocks.front() == model.front());
      REQUIRE(blocks.back() == model.back());
    }
    REQUIRE(contents(blocks) == std::vector<std::string>(model.begin(), model.end()));
  }
}

TEST_CASE(
    "a copy of a block deque keeps what it held when taken, whatever the original does next; "
    "full blocks are shared, not copied",
    "[block_deque]") {
  BlockDeque<std::string, 4> original;
  for (int i = 0; i < 10; ++i) original.push_back(std::to_string(i));  // blocks 0-3, 4-7; open 8, 9
  original.pop_front();                                                // 1 ... 9
  const auto* first_value = &original.front();
  const BlockDeque<std::string, 4> copy = original;
  const auto taken = contents(copy);
  CHECK(&copy.front() == first_value);      // the full block is the same memory
  CHECK(&copy.back() != &original.back());  // the open block is the copy's own

  // The original moves on: new values, dropped ones at both ends (reopening
  // a shared full block), older ones put before the front, a clear.
  for (int i = 10; i < 20; ++i) original.push_back(std::to_string(i));
  for (int i = 0; i < 7; ++i) original.pop_back();  // reopens the blocks 16-19 and 12-15
  for (int i = 0; i < 5; ++i) original.pop_front();
  original.prepend({"a", "b", "c", "d", "e"});
  CHECK(contents(original) ==
        std::vector<std::string>{"a", "b", "c", "d", "e", "6", "7", "8", "9", "10", "11", "12"});
  CHECK(contents(copy) == taken);
  CHECK(taken == std::vector<std::string>{"1", "2", "3", "4", "5", "6", "7", "8", "9"});
  original.clear();
  CHECK(original.empty());
  CHECK(contents(copy) == taken);

  // And the other way: a copy's changes leave the original alone.
  BlockDeque<std::string, 4> second = copy;
  second.pop_back();
  second.pop_back();
  second.pop_front();
  second.push_back("x");
  CHECK(contents(second) == std::vector<std::string>{"2", "3", "4", "5", "6", "7", "x"});
  CHECK(contents(copy) == taken);
}
