/* Fifty system calls that no default rule mentions: denying them all makes a
 * filter much larger without changing what the usual calls cost. Shared by the
 * seccomp unit test and bench/syscall_bench.c. */
#ifndef SBX_EXTRA_SYSCALLS_H
#define SBX_EXTRA_SYSCALLS_H

static const char *const sbx_extra_syscalls[] = {
    "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "mlock2",
    "pkey_alloc", "pkey_free", "pkey_mprotect", "memfd_secret", "ioprio_set", "ioprio_get",
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semctl", "shmget", "shmat",
    "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
    "mq_getsetattr", "vmsplice", "sysfs", "ustat", "utime", "time", "getpriority",
    "setpriority", "sched_setattr", "sched_getattr", "sched_setparam", "sched_setscheduler",
    "timer_create", "timer_delete", "modify_ldt", "lookup_dcookie", "remap_file_pages",
    "mincore", "readahead", "tee", "splice", "sync_file_range",
    NULL,
};

#endif
