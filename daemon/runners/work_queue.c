/* work_queue.c — see work_queue.h. */
#include "work_queue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"

struct item {
    void (*fn)(void *arg);
    void *arg;
    struct item *next;
};

struct oj_work_queue {
    const char *name;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, *tail;
    uint64_t pushed;
    bool stopping;
};

static void *queue_main(void *arg)
{
    struct oj_work_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (q->head == NULL && !q->stopping)
            pthread_cond_wait(&q->cv, &q->mu);
        struct item *it = q->head;
        if (it == NULL) /* stopping, and nothing left */
            break;
        q->head = it->next;
        if (q->head == NULL)
            q->tail = NULL;
        pthread_mutex_unlock(&q->mu);
        it->fn(it->arg);
        free(it);
        pthread_mutex_lock(&q->mu);
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

struct oj_work_queue *oj_work_queue_new(const char *name)
{
    struct oj_work_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->name = name;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    if (pthread_create(&q->thread, NULL, queue_main, q) != 0) {
        LOG_ERROR("work: cannot start the %s thread", name);
        pthread_cond_destroy(&q->cv);
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    return q;
}

uint64_t oj_work_queue_push(struct oj_work_queue *q, void (*fn)(void *arg), void *arg)
{
    struct item *it = malloc(sizeof *it);
    if (it == NULL)
        return 0;
    *it = (struct item){.fn = fn, .arg = arg};
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    uint64_t ticket = ++q->pushed;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    return ticket;
}

void oj_work_queue_free(struct oj_work_queue *q)
{
    if (q == NULL)
        return;
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

struct alone {
    void (*fn)(void *arg);
    void *arg;
};

static void *alone_main(void *arg)
{
    struct alone a = *(struct alone *)arg;
    free(arg);
    a.fn(a.arg);
    return NULL;
}

int oj_work_alone(void (*fn)(void *arg), void *arg)
{
    struct alone *a = malloc(sizeof *a);
    if (a == NULL)
        return -1;
    *a = (struct alone){fn, arg};
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    int rc = pthread_create(&t, &attr, alone_main, a);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(a);
        LOG_ERROR("work: cannot start a thread");
        return -1;
    }
    return 0;
}
