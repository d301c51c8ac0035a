#include "latch.h"

void latch_open(latch *l)
{
    pthread_mutex_lock(&l->lock);
    l->open = 1;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

void latch_wait(latch *l)
{
    pthread_mutex_lock(&l->lock);
    while (!l->open)
        pthread_cond_wait(&l->cond, &l->lock);
    pthread_mutex_unlock(&l->lock);
}

void latch_close(latch *l)
{
    pthread_mutex_lock(&l->lock);
    l->open = 0;
    pthread_mutex_unlock(&l->lock);
}
