/* The single-instance lock: held means running, whatever the pid file says. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pidlock.h"

static char dir[64], path[128];

static void mk(void)
{
    snprintf(dir, sizeof dir, "/tmp/ojl.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/daemon.pid", dir);
}

static void rm(void)
{
    unlink(path);
    rmdir(dir);
}

Test(pidlock, holder_is_the_live_process_and_dies_with_it, .init = mk, .fini = rm)
{
    cr_expect_eq(oj_pidlock_holder(path), 0, "no file: nobody");
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t child = fork();
    if (child == 0) {
        int fd = oj_pidlock_acquire(path, NULL);
        char c = fd >= 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    cr_assert_eq(c, 'y');
    cr_expect_eq(oj_pidlock_holder(path), child);

    pid_t holder = 0;
    cr_expect_eq(oj_pidlock_acquire(path, &holder), -2, "a second instance must be refused");
    cr_expect_eq(holder, child);

    kill(child, SIGKILL); /* a crash: the pid file stays, the lock goes */
    waitpid(child, NULL, 0);
    cr_expect_eq(access(path, F_OK), 0, "the stale pid file is still there");
    cr_expect_eq(oj_pidlock_holder(path), 0, "but nobody holds the lock");

    int fd = oj_pidlock_acquire(path, NULL);
    cr_expect_geq(fd, 0, "a new instance starts despite the stale file");
    FILE *f = fopen(path, "r");
    int written = 0;
    cr_assert_eq(fscanf(f, "%d", &written), 1);
    fclose(f);
    cr_expect_eq(written, getpid());
    close(fd);
}
