//===- ThreadPoolTest.cpp - the runtime's thread pool ------------------------------------------===//
//
// Every index runs exactly once, loops follow each other without losing or repeating work (the
// publication protocol of thread_pool.c), errors come back, nested and concurrent loops run
// (serially) instead of deadlocking, and the thread count can change between loops.
//
//===------------------------------------------------------------------------------------------===//
#include "tern/thread_pool.h"

#include "gtest/gtest.h"

#include <atomic>
#include <chrono>
#include <csignal>
#include <pthread.h>
#include <thread>
#include <vector>

namespace {

struct Counts {
  std::vector<std::atomic<int>> hits;
  explicit Counts(size_t n) : hits(n) {}
};

int countTask(void *, int index, uint8_t *closure) {
  reinterpret_cast<Counts *>(closure)->hits[size_t(index)].fetch_add(1);
  return 0;
}

TEST(ThreadPool, EveryIndexRunsOnceAcrossManyLoops) {
  tern_set_num_threads(3);
  for (int loop = 0; loop < 3000; ++loop) {
    int min = loop % 7, size = 1 + loop % 97;
    Counts counts(size_t(min + size));
    ASSERT_EQ(tern_parallel_for(nullptr, countTask, min, size,
                                reinterpret_cast<uint8_t *>(&counts)),
              0);
    for (int i = 0; i < min + size; ++i)
      ASSERT_EQ(counts.hits[size_t(i)].load(), i >= min ? 1 : 0) << "loop " << loop << " i " << i;
  }
}

int failAtFive(void *, int index, uint8_t *) { return index == 5 ? 7 : 0; }

TEST(ThreadPool, ReportsATaskError) {
  EXPECT_EQ(tern_parallel_for(nullptr, failAtFive, 0, 64, nullptr), 7);
  EXPECT_EQ(tern_parallel_for(nullptr, failAtFive, 6, 64, nullptr), 0);
}

int nestedTask(void *, int, uint8_t *closure) {
  Counts inner(16);
  int status = tern_parallel_for(nullptr, countTask, 0, 16, reinterpret_cast<uint8_t *>(&inner));
  for (auto &h : inner.hits)
    if (h.load() != 1)
      return 1;
  reinterpret_cast<std::atomic<int> *>(closure)->fetch_add(1);
  return status;
}

TEST(ThreadPool, NestedLoopsRunSerially) {
  std::atomic<int> done{0};
  EXPECT_EQ(tern_parallel_for(nullptr, nestedTask, 0, 20, reinterpret_cast<uint8_t *>(&done)), 0);
  EXPECT_EQ(done.load(), 20);
}

TEST(ThreadPool, ConcurrentCallersBothComplete) {
  auto caller = [](int *ok) {
    *ok = 1;
    for (int loop = 0; loop < 500; ++loop) {
      Counts counts(50);
      if (tern_parallel_for(nullptr, countTask, 0, 50, reinterpret_cast<uint8_t *>(&counts)))
        *ok = 0;
      for (auto &h : counts.hits)
        if (h.load() != 1)
          *ok = 0;
    }
  };
  int ok1 = 0, ok2 = 0;
  std::thread a(caller, &ok1), b(caller, &ok2);
  a.join();
  b.join();
  EXPECT_EQ(ok1, 1);
  EXPECT_EQ(ok2, 1);
}

TEST(ThreadPool, ThreadCountChangesBetweenLoops) {
  for (int threads : {1, 2, 4, 1}) {
    tern_set_num_threads(threads);
    EXPECT_EQ(tern_get_num_threads(), threads);
    Counts counts(100);
    ASSERT_EQ(tern_parallel_for(nullptr, countTask, 0, 100, reinterpret_cast<uint8_t *>(&counts)),
              0);
    for (auto &h : counts.hits)
      ASSERT_EQ(h.load(), 1);
  }
}

} // namespace

namespace {
std::thread::id gCaller;

struct SignalMasks {
  std::atomic<int> workerTasks{0}, workerTasksBlockingSigterm{0};
};

/// Records, on pool workers (not the calling thread), whether SIGTERM is blocked; slow enough
/// that the workers take part.
int recordMask(void *, int, uint8_t *closure) {
  auto *m = reinterpret_cast<SignalMasks *>(closure);
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  if (std::this_thread::get_id() != gCaller) {
    ++m->workerTasks;
    m->workerTasksBlockingSigterm += sigismember(&mask, SIGTERM) == 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return 0;
}
} // namespace

// The pool's workers take no signals: a process-directed SIGTERM reaches the program's own
// threads (the server waits for it with sigwait), even when the pool started before the
// program blocked it.
TEST(ThreadPool, WorkersBlockSignals) {
  tern_set_num_threads(3);
  gCaller = std::this_thread::get_id();
  SignalMasks m;
  ASSERT_EQ(tern_parallel_for(nullptr, recordMask, 0, 64, reinterpret_cast<uint8_t *>(&m)), 0);
  EXPECT_GT(m.workerTasks.load(), 0);
  EXPECT_EQ(m.workerTasksBlockingSigterm.load(), m.workerTasks.load());
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  EXPECT_EQ(sigismember(&mask, SIGTERM), 0); // the caller's own mask is left as it was
  tern_set_num_threads(2);
}
