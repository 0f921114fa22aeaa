#pragma once
// A queue of values whose copies share what they hold in common. The values
// sit in blocks; a full block is immutable and shared by every copy that
// holds it, so a copy costs a pointer per block plus the values of the one
// block still being filled, not a copy of every value. Made for a history
// that one thread keeps appending to while another reads a copy taken at
// some moment (a target's recorded decisions, read by its refit on a pool
// thread): the copy stays as it was whatever the original does next, and
// neither changes a value the other can see.
#include <cstddef>
#include <deque>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace prescale {

/// Values in order, oldest first: appended at the back, dropped at either
/// end, older ones put before the front in a batch. Not thread-safe itself
/// (one owner changes it); a copy is an independent value that may be read
/// on another thread while the original changes. `BlockSize`: values per
/// shared block (the most a copy duplicates).
template <class T, std::size_t BlockSize = 256>
class BlockDeque {
  static_assert(BlockSize > 0);
  struct Block {
    std::shared_ptr<const std::vector<T>> values;  ///< never changed once shared
    std::size_t begin = 0;                         ///< values dropped from its front
  };

 public:
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = const T*;
    using reference = const T&;

    const_iterator() = default;
    reference operator*() const {
      return block_ < owner_->blocks_.size() ? (*owner_->blocks_[block_].values)[index_]
                                             : owner_->open_[index_];
    }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      ++index_;
      skip_ended_blocks();
      return *this;
    }
    const_iterator operator++(int) {
      auto before = *this;
      ++*this;
      return before;
    }
    bool operator==(const const_iterator& other) const {
      return block_ == other.block_ && index_ == other.index_;
    }

   private:
    friend class BlockDeque;
    const_iterator(const BlockDeque* owner, std::size_t block, std::size_t index)
        : owner_(owner), block_(block), index_(index) {
      skip_ended_blocks();
    }
    void skip_ended_blocks() {
      const auto& blocks = owner_->blocks_;
      while (block_ < blocks.size() && index_ >= blocks[block_].values->size()) {
        ++block_;
        index_ = block_ < blocks.size() ? blocks[block_].begin : 0;
      }
    }
    const BlockDeque* owner_ = nullptr;
    std::size_t block_ = 0;  ///< blocks_.size(): in the open block
    std::size_t index_ = 0;
  };

  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] const_iterator begin() const {
    return const_iterator(this, 0, blocks_.empty() ? 0 : blocks_.front().begin);
  }
  [[nodiscard]] const_iterator end() const {
    return const_iterator(this, blocks_.size(), open_.size());
  }
  /// The oldest value; not on an empty deque.
  [[nodiscard]] const T& front() const { return *begin(); }
  /// The newest value; not on an empty deque.
  [[nodiscard]] const T& back() const {
    return open_.empty() ? blocks_.back().values->back() : open_.back();
  }

  void push_back(T value) {
    open_.push_back(std::move(value));
    ++size_;
    if (open_.size() >= BlockSize) {
      blocks_.push_back(Block{std::make_shared<const std::vector<T>>(std::move(open_)), 0});
      open_ = {};
    }
  }
  /// Drops the newest value; not on an empty deque.
  void pop_back() {
    if (open_.empty()) {
      // The last full block opens again as a copy: copies taken keep it whole.
      const Block last = std::move(blocks_.back());
      blocks_.pop_back();
      open_.assign(last.values->begin() + static_cast<std::ptrdiff_t>(last.begin),
                   last.values->end());
    }
    open_.pop_back();
    --size_;
  }
  /// Drops the oldest value; not on an empty deque.
  void pop_front() {
    if (blocks_.empty()) {
      open_.erase(open_.begin());
    } else if (++blocks_.front().begin == blocks_.front().values->size()) {
      blocks_.pop_front();
    }
    --size_;
  }
  /// Puts `older`, oldest first, before the front (in blocks of BlockSize).
  void prepend(std::vector<T> older) {
    size_ += older.size();
    for (std::size_t end = older.size(); end > 0;) {
      const std::size_t from = end > BlockSize ? end - BlockSize : 0;
      auto block = std::make_shared<std::vector<T>>(
          std::make_move_iterator(older.begin() + static_cast<std::ptrdiff_t>(from)),
          std::make_move_iterator(older.begin() + static_cast<std::ptrdiff_t>(end)));
      blocks_.push_front(Block{std::move(block), 0});
      end = from;
    }
  }
  void clear() {
    blocks_.clear();
    open_.clear();
    size_ = 0;
  }

 private:
  std::deque<Block> blocks_;  ///< full blocks, oldest first, before open_
  std::vector<T> open_;       ///< the newest values, this deque's own
  std::size_t size_ = 0;
};

}  // namespace prescale
