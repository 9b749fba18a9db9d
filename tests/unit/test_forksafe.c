/* Locks a fork must not inherit taken (lib/util/forksafe.c). The library's
 * helper thread prepares sandboxes ahead while the host runs on; a host that
 * forks meanwhile (a worker pool, Python's multiprocessing) must find every
 * lock that thread takes free in the copy, or the copy's first spawn waits for
 * ever. Each case calls a function once (its lock is registered at first use),
 * holds the function's lock in a thread of its own, forks while it is held,
 * and has the copy call the function again under an alarm. The control: a lock
 * that is not registered is inherited taken, and the copy's alarm fires. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <agentsbx/agentsbx.h>

#include "namespace_layer.h"
#include "testutil.h"
#include "util/util.h"

struct holder {
    pthread_mutex_t *lock;
    int ready[2];
};

static void *hold(void *arg)
{
    struct holder *h = arg;
    pthread_mutex_lock(h->lock);
    char c = 1;
    (void)!write(h->ready[1], &c, 1);
    usleep(200 * 1000); /* the fork comes now */
    pthread_mutex_unlock(h->lock);
    return NULL;
}

/* Fork while another thread holds lock; the copy calls use() under an alarm
 * and exits 0 once it returned. Returns the copy's wait status. */
static int fork_while_held(pthread_mutex_t *lock, void (*use)(void))
{
    struct holder h = {.lock = lock};
    assert_int_equal(pipe(h.ready), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hold, &h), 0);
    char c;
    assert_int_equal(read(h.ready[0], &c, 1), 1); /* held now */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(3);
        use();
        _exit(0);
    }
    assert_int_equal(pthread_join(t, NULL), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    close(h.ready[0]);
    close(h.ready[1]);
    return status;
}

static void expect_copy_went_on(pthread_mutex_t *lock, void (*use)(void), const char *what)
{
    use(); /* registers the lock, as the library's first use does */
    int status = fork_while_held(lock, use);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s: the fork's copy %s", what,
                 WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM
                     ? "waited for a lock it inherited taken (killed by its alarm)"
                     : "failed");
}

static pthread_mutex_t unregistered = PTHREAD_MUTEX_INITIALIZER;

static void use_unregistered(void)
{
    pthread_mutex_lock(&unregistered);
    pthread_mutex_unlock(&unregistered);
}

static void use_owner(void)
{
    char tag[SBX__OWNER_TAG_MAX];
    sbx__owner_tag(tag, sizeof(tag));
}

static void use_sweep(void)
{
    (void)sbx__first_sweep("/nonexistent/agentsbx-forksafe");
}

static void use_init(void)
{
    (void)sbx__ns_init_fd();
}

static void use_probe(void)
{
    char why[512];
    (void)sbx__ns_probe_set(SBX_NS_UTS, why, sizeof(why));
}

/* The control: without registering, the copy inherits the lock taken. */
static void test_forksafe__unregistered_lock_is_inherited_taken(void **state)
{
    (void)state;
    int status = fork_while_held(&unregistered, use_unregistered);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGALRM)
        fail_msg("control: the copy took a lock another thread held at the fork (status "
                 "0x%x): the cases prove nothing",
                 status);
}

static pthread_mutex_t mine = PTHREAD_MUTEX_INITIALIZER;

static void use_mine(void)
{
    pthread_mutex_lock(&mine);
    pthread_mutex_unlock(&mine);
}

/* The registry itself, with a lock of the test's own. */
static void test_forksafe__registered_lock_is_free_in_the_copy(void **state)
{
    (void)state;
    assert_true(sbx__fork_safe(&mine));
    assert_true(sbx__fork_safe(&mine)); /* again: a no-op */
    expect_copy_went_on(&mine, use_mine, "a registered lock");
}

static void test_forksafe__owner_tag(void **state)
{
    (void)state;
    expect_copy_went_on(&sbx__owner_lock, use_owner, "sbx__owner_tag");
}

static void test_forksafe__first_sweep(void **state)
{
    (void)state;
    expect_copy_went_on(&sbx__sweep_lock, use_sweep, "sbx__first_sweep");
}

static void test_forksafe__init_descriptor(void **state)
{
    (void)state;
    expect_copy_went_on(&sbx__ns_init_lock, use_init, "sbx__ns_init_fd");
}

static void test_forksafe__namespace_probe(void **state)
{
    (void)state;
    expect_copy_went_on(&sbx__ns_probe_lock, use_probe, "the namespace probe");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_forksafe__unregistered_lock_is_inherited_taken),
    cmocka_unit_test(test_forksafe__registered_lock_is_free_in_the_copy),
    cmocka_unit_test(test_forksafe__owner_tag),
    cmocka_unit_test(test_forksafe__first_sweep),
    cmocka_unit_test(test_forksafe__init_descriptor),
    cmocka_unit_test(test_forksafe__namespace_probe),
};

SBX_TEST_MAIN(tests)
