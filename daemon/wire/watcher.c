/* watcher.c — follows every session's output log and publishes what is
 * appended, as OutputChunks on "out/<id>/".
 *
 * Event-driven: inotify on .oj/logs/sessions/ tells when a log grows (tmux's
 * pipe-pane appends to it), so nothing polls the panes. Each session's chunks
 * are numbered from 1 without gaps and carry their byte offset in the log, so
 * a follower that misses some (PUB drops for slow readers) re-fetches exactly
 * that byte range with SessionCapture. Logs that exist when the daemon starts
 * are followed from their current end. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "publisher.h"

#define CHUNK_MAX 16384

struct track {
    uint64_t offset, seq;
};

/* Guards d->watch_tracks: the watcher changes it, the engine reads it
 * (oj_watcher_published) and drops entries (oj_watcher_forget), so the
 * watcher works on a copy of a track and writes it back. A static
 * initializer: it works before the watcher starts and after it stops. */
static pthread_mutex_t tracks_mu = PTHREAD_MUTEX_INITIALIZER;

/* The session's track, made at `start` when it has none. False when out of memory. */
static bool track_get(struct oj_hmap *m, const char *id, uint64_t start, struct track *out)
{
    pthread_mutex_lock(&tracks_mu);
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
    pthread_mutex_unlock(&tracks_mu);
    return t != NULL;
}

static void track_put(struct oj_hmap *m, const char *id, const struct track *in)
{
    pthread_mutex_lock(&tracks_mu);
    struct track *t = oj_hmap_get(m, id);
    if (t) /* else forgotten meanwhile */
        *t = *in;
    pthread_mutex_unlock(&tracks_mu);
}

int64_t oj_watcher_published(struct oj_daemon *d, const char *id)
{
    pthread_mutex_lock(&tracks_mu);
    const struct track *t = oj_hmap_get(&d->watch_tracks, id);
    int64_t published = t ? (int64_t)t->offset : -1;
    pthread_mutex_unlock(&tracks_mu);
    return published;
}

void oj_watcher_forget(struct oj_daemon *d, const char *id)
{
    pthread_mutex_lock(&tracks_mu);
    free(oj_hmap_del(&d->watch_tracks, id));
    pthread_mutex_unlock(&tracks_mu);
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

static void drain(struct oj_daemon *d, const char *id, struct track *t)
{
    uint64_t from = t->offset;
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/%.64s.log", d->paths.session_log_dir, id);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    static char buf[CHUNK_MAX];
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, (off_t)t->offset);
        if (n <= 0)
            break;
        t->seq++;
        oj_pub_chunk(d->publisher, id, t->seq, t->offset, buf, (size_t)n);
        t->offset += (uint64_t)n;
    }
    close(fd);
    if (t->offset != from)
        track_put(&d->watch_tracks, id, t);
}

static void *watcher_main(void *arg)
{
    struct oj_daemon *d = arg;
    struct oj_hmap *tracks = &d->watch_tracks;

    /* Existing logs: follow from their current end. */
    DIR *dir = opendir(d->paths.session_log_dir);
    struct dirent *de;
    while (dir && (de = readdir(dir))) {
        char id[64], path[PATH_MAX + 300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", d->paths.session_log_dir, de->d_name);
        struct track t;
        if (id_of(de->d_name, id, sizeof id) && stat(path, &st) == 0)
            track_get(tracks, id, (uint64_t)st.st_size, &t);
    }
    if (dir)
        closedir(dir);

    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        struct pollfd p[2] = {{.fd = d->watch_fd, .events = POLLIN},
                              {.fd = d->watch_stop[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (!(p[0].revents & POLLIN))
            continue;
        ssize_t len = read(d->watch_fd, buf, sizeof buf);
        for (ssize_t i = 0; i < len;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + i);
            i += (ssize_t)(sizeof *ev + ev->len);
            char id[64];
            if (ev->len == 0 || !id_of(ev->name, id, sizeof id))
                continue;
            /* Created while we run: follow from byte 0. */
            struct track t;
            if (track_get(tracks, id, 0, &t))
                drain(d, id, &t);
        }
    }
    pthread_mutex_lock(&tracks_mu);
    const char *k;
    void *v;
    for (size_t it = 0; oj_hmap_next(tracks, &it, &k, &v);)
        free(v);
    oj_hmap_free(tracks);
    pthread_mutex_unlock(&tracks_mu);
    return NULL;
}

int oj_watcher_start(struct oj_daemon *d)
{
    d->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (d->watch_fd < 0 || pipe2(d->watch_stop, O_CLOEXEC) != 0)
        return -1;
    if (inotify_add_watch(d->watch_fd, d->paths.session_log_dir, IN_MODIFY | IN_CREATE) < 0)
        return -1;
    return pthread_create(&d->watch_thread, NULL, watcher_main, d);
}

void oj_watcher_stop(struct oj_daemon *d)
{
    if (write(d->watch_stop[1], "x", 1) != 1)
        LOG_WARN("watcher: cannot signal the watcher thread");
    pthread_join(d->watch_thread, NULL);
    close(d->watch_fd);
    close(d->watch_stop[0]);
    close(d->watch_stop[1]);
}
