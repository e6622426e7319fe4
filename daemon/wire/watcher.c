/* watcher.c — follows every session's output log and publishes what is
 * appended, as OutputChunks on "out/<id>/".
 *
 * Event-driven: inotify on .oj/logs/sessions/ tells when a log grows (tmux's
 * pipe-pane appends to it), so nothing polls the panes. Each session's chunks
 * are numbered from 1 without gaps and carry their byte offset in the log, so
 * a follower that misses some (PUB drops for slow readers) re-fetches exactly
 * that byte range with SessionCapture. Logs that exist when the daemon starts
 * are followed from their current end. */
#include "watcher.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "hmap.h"
#include "log.h"
#include "publisher.h"

#define CHUNK_MAX 16384

struct track {
    uint64_t offset, seq;
    /* The log's last bytes up to offset (the bottom of the agent's output,
     * where a prompt waits: prompt.h), kept as they pass by. Made on first
     * use (new output, or the engine asking): the logs of sessions long
     * ended, followed from their end since the start, cost nothing. Only
     * touched under the watcher's mutex (the watcher's copy of a track never
     * does). */
    char *tail;
    uint32_t tail_len;
};

static void track_free(struct track *t)
{
    if (t)
        free(t->tail);
    free(t);
}

/* Appends data to the track's tail, keeping its last OJ_WATCHER_TAIL_BYTES. */
static void tail_add(struct track *t, const char *data, size_t n)
{
    const size_t cap = OJ_WATCHER_TAIL_BYTES;
    if (n >= cap) {
        memcpy(t->tail, data + n - cap, cap);
        t->tail_len = (uint32_t)cap;
        return;
    }
    size_t keep = t->tail_len + n > cap ? cap - n : t->tail_len;
    memmove(t->tail, t->tail + t->tail_len - keep, keep);
    memcpy(t->tail + keep, data, n);
    t->tail_len = (uint32_t)(keep + n);
}

struct oj_watcher {
    const char *log_dir;
    struct oj_publisher *publisher;
    pthread_t thread;
    int fd, stop[2]; /* inotify; a pipe that ends the thread */
    /* session id -> struct track*. Guarded by mu: the watcher changes it,
     * other threads read it (oj_watcher_position) and drop entries
     * (oj_watcher_drop), so the watcher works on a copy of a track and
     * writes it back. */
    pthread_mutex_t mu;
    struct oj_hmap tracks;
};

/* The session's track, made at `start` when it has none. False when out of memory. */
static bool track_get(struct oj_watcher *w, const char *id, uint64_t start, struct track *out)
{
    struct oj_hmap *m = &w->tracks;
    pthread_mutex_lock(&w->mu);
    struct track *t = oj_hmap_get(m, id);
    if (t == NULL && (t = calloc(1, sizeof *t)) != NULL) {
        t->offset = start;
        bool oom;
        oj_hmap_put(m, id, t, &oom);
        if (oom) {
            free(t);
            t = NULL;
        }
    }
    if (t)
        *out = *t;
    pthread_mutex_unlock(&w->mu);
    return t != NULL;
}

static void track_put(struct oj_watcher *w, const char *id, const struct track *in)
{
    pthread_mutex_lock(&w->mu);
    struct track *t = oj_hmap_get(&w->tracks, id);
    if (t) { /* else forgotten meanwhile; its tail is not the copy's to set */
        t->offset = in->offset;
        t->seq = in->seq;
    }
    pthread_mutex_unlock(&w->mu);
}

int64_t oj_watcher_position(struct oj_watcher *w, const char *id)
{
    if (w == NULL)
        return -1;
    pthread_mutex_lock(&w->mu);
    const struct track *t = oj_hmap_get(&w->tracks, id);
    int64_t published = t ? (int64_t)t->offset : -1;
    pthread_mutex_unlock(&w->mu);
    return published;
}

/* Makes t's tail (w->mu held): the log's last bytes before `end`, read from
 * the file (a log followed since before the start, or one the watcher
 * catches up on). False when out of memory. */
static bool tail_make(struct oj_watcher *w, const char *id, struct track *t, uint64_t end)
{
    if (t->tail)
        return true;
    if ((t->tail = malloc(OJ_WATCHER_TAIL_BYTES)) == NULL)
        return false;
    t->tail_len = 0;
    uint64_t from = end > OJ_WATCHER_TAIL_BYTES ? end - OJ_WATCHER_TAIL_BYTES : 0;
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%.64s.log", w->log_dir ? w->log_dir : ".", id);
    int fd = end > 0 && w->log_dir ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    ssize_t n = fd >= 0 ? pread(fd, t->tail, (size_t)(end - from), (off_t)from) : -1;
    if (fd >= 0)
        close(fd);
    t->tail_len = n > 0 ? (uint32_t)n : 0;
    return true;
}

size_t oj_watcher_tail(struct oj_watcher *w, const char *id, char *buf, size_t cap,
                       uint64_t *end)
{
    *end = 0;
    if (w == NULL)
        return 0;
    pthread_mutex_lock(&w->mu);
    struct track *t = oj_hmap_get(&w->tracks, id);
    size_t n = 0;
    if (t && (cap == 0 || tail_make(w, id, t, t->offset))) {
        n = t->tail_len < cap ? t->tail_len : cap;
        if (n)
            memcpy(buf, t->tail + t->tail_len - n, n);
        *end = t->offset;
    }
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* Adds a chunk that starts at `at` to the session's tail (made first when
 * it has none). */
static void tail_put(struct oj_watcher *w, const char *id, uint64_t at, const char *data,
                     size_t n)
{
    pthread_mutex_lock(&w->mu);
    struct track *t = oj_hmap_get(&w->tracks, id);
    if (t && tail_make(w, id, t, at))
        tail_add(t, data, n);
    pthread_mutex_unlock(&w->mu);
}

void oj_watcher_drop(struct oj_watcher *w, const char *id)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    track_free(oj_hmap_del(&w->tracks, id));
    pthread_mutex_unlock(&w->mu);
}

/* "<id>.log" -> id; false for anything else. */
static bool id_of(const char *name, char *id, size_t len)
{
    size_t n = strlen(name);
    if (n < 5 || n - 4 >= len || strcmp(name + n - 4, ".log") != 0)
        return false;
    memcpy(id, name, n - 4);
    id[n - 4] = '\0';
    return true;
}

static void drain(struct oj_watcher *w, const char *id, struct track *t)
{
    uint64_t from = t->offset;
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%.64s.log", w->log_dir, id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    static char buf[CHUNK_MAX];
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, (off_t)t->offset);
        if (n <= 0)
            break;
        t->seq++;
        oj_pub_chunk(w->publisher, id, t->seq, t->offset, buf, (size_t)n);
        tail_put(w, id, t->offset, buf, (size_t)n);
        t->offset += (uint64_t)n;
    }
    close(fd);
    if (t->offset != from)
        track_put(w, id, t);
}

static void *watcher_main(void *arg)
{
    struct oj_watcher *w = arg;

    /* Existing logs: follow from their current end. */
    DIR *dir = opendir(w->log_dir);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        char id[64], path[PATH_MAX + 300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", w->log_dir, de->d_name);
        struct track t;
        if (id_of(de->d_name, id, sizeof id) && stat(path, &st) == 0)
            track_get(w, id, (uint64_t)st.st_size, &t);
    }
    if (dir)
        closedir(dir);

    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        struct pollfd p[2] = {{.fd = w->fd, .events = POLLIN},
                              {.fd = w->stop[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        ssize_t len = read(w->fd, buf, sizeof buf);
        for (ssize_t i = 0; i < len;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + i);
            i += (ssize_t)(sizeof *ev + ev->len);
            char id[64];
            if (ev->len == 0 || !id_of(ev->name, id, sizeof id))
                continue;
            /* Created while we run: follow from byte 0. */
            struct track t;
            if (track_get(w, id, 0, &t))
                drain(w, id, &t);
        }
    }
    pthread_mutex_lock(&w->mu);
    const char *k;
    void *v;
    for (size_t it = 0; oj_hmap_next(&w->tracks, &it, &k, &v);)
        track_free(v);
    oj_hmap_free(&w->tracks);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

struct oj_watcher *oj_watcher_new(void)
{
    struct oj_watcher *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    w->fd = w->stop[0] = w->stop[1] = -1;
    pthread_mutex_init(&w->mu, NULL);
    oj_hmap_init(&w->tracks);
    return w;
}

static void close_fds(struct oj_watcher *w)
{
    int *fds[] = {&w->fd, &w->stop[0], &w->stop[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (*fds[i] >= 0) {
            close(*fds[i]);
            *fds[i] = -1;
        }
}

int oj_watcher_start(struct oj_watcher *w, const char *log_dir, struct oj_publisher *pub)
{
    w->log_dir = log_dir;
    w->publisher = pub;
    w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (w->fd < 0 || pipe2(w->stop, O_CLOEXEC) != 0 ||
        inotify_add_watch(w->fd, log_dir, IN_MODIFY | IN_CREATE) < 0 ||
        (errno = pthread_create(&w->thread, NULL, watcher_main, w)) != 0) {
        int e = errno;
        close_fds(w);
        errno = e;
        return -1;
    }
    return 0;
}

void oj_watcher_stop(struct oj_watcher *w)
{
    if (write(w->stop[1], "x", 1) != 1)
        LOG_WARN("watcher: cannot signal the watcher thread");
    pthread_join(w->thread, NULL);
    close_fds(w);
}

void oj_watcher_free(struct oj_watcher *w)
{
    if (w == NULL)
        return;
    const char *k;
    void *v;
    for (size_t it = 0; oj_hmap_next(&w->tracks, &it, &k, &v);)
        track_free(v);
    oj_hmap_free(&w->tracks);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
