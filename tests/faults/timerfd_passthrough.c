/* Preloaded before libfaketime in the clock cases (tests/faults/cases.py).
 *
 * libfaketime 0.9.10 rewrites every absolute timerfd_settime() deadline as
 * if its timer ran on CLOCK_REALTIME (its source: "only CLOCK_REALTIME is
 * handled"), whatever clock the timerfd has. sd-event arms CLOCK_MONOTONIC
 * timerfds with absolute deadlines, so under a fake offset every loop timer
 * moves by that offset (or fails with EINVAL when the result is negative).
 * A real clock step leaves CLOCK_MONOTONIC timers alone: this hands
 * timerfd_settime straight to the C library, so the agent under test sees
 * what a step on a device does, and only the wall clock is faked. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/timerfd.h>

typedef int (*settime_fn)(int, int, const struct itimerspec *, struct itimerspec *);

int timerfd_settime(int fd, int flags, const struct itimerspec *new_value, struct itimerspec *old_value) {
  static settime_fn real = NULL;
  settime_fn fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
  if (fn == NULL) {
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    fn = libc != NULL ? (settime_fn)dlsym(libc, "timerfd_settime") : NULL;
    if (fn == NULL) {
      errno = ENOSYS;
      return -1;
    }
    __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
  }
  return fn(fd, flags, new_value, old_value);
}
