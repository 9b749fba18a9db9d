/* Locks a fork of the host must not inherit taken.
 *
 * The library's helper thread prepares sandboxes ahead (spawn.c) while the
 * host's threads go on; a host may fork meanwhile (a worker pool, Python's
 * multiprocessing). Only the forking thread lives on in the copy: a lock the
 * helper held at that moment stays taken there for ever, and the copy's first
 * spawn waits for it. Each lock the helper can take is registered here once;
 * fork(2) then takes every registered lock first (pthread_atfork's prepare,
 * in the order registered) and both processes release them after. They are
 * leaf locks, held for a few system calls with no other lock inside, so the
 * fork waits at most that long. */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define FORK_SAFE_MAX 8

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t *locks[FORK_SAFE_MAX];
static size_t n_locks;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void take_all(void)
{
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < n_locks; i++)
        pthread_mutex_lock(locks[i]);
}

static void release_all(void)
{
    for (size_t i = n_locks; i-- > 0;)
        pthread_mutex_unlock(locks[i]);
    pthread_mutex_unlock(&registry_lock);
}

static void install(void)
{
    pthread_atfork(take_all, release_all, release_all);
}

bool sbx__fork_safe(pthread_mutex_t *lock)
{
    pthread_once(&handlers_once, install);
    pthread_mutex_lock(&registry_lock);
    bool known = false;
    for (size_t i = 0; i < n_locks && !known; i++)
        known = locks[i] == lock;
    if (!known && n_locks < FORK_SAFE_MAX)
        locks[n_locks++] = lock;
    bool ok = known || locks[n_locks - 1] == lock;
    pthread_mutex_unlock(&registry_lock);
    return ok;
}
