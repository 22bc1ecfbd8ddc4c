// SPDX-License-Identifier: MIT
/*
 * Timers for --irqchip=user: each vCPU's local APIC timer deadline is a
 * timerfd (CLOCK_MONOTONIC, absolute), created on first use and watched
 * by one epoll set. One thread waits on it and, when a vCPU's deadline
 * passes, notifies that vCPU the way a sender of an interrupt does
 * (engine_notify: its notification flag, then a signal or a wake-up by
 * where it is). The vCPU's own thread then finds the expiry in
 * vipi_lapic_poll(). Work per expiry is O(1) whatever the VM size; the
 * LAPIC model computes periods arithmetically, so a missed tick costs
 * nothing here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "vmm.h"

struct vm_timers {
	struct vm *vm;
	int epfd;
	int wake_fd; /* an eventfd-like pipe end: stop the thread */
	int wake_wr;
	int *fd; /* per vCPU, -1 until first armed */
	pthread_t thread;
	bool started;
};

static void *timer_thread(void *arg)
{
	struct vm_timers *t = arg;
	struct epoll_event ev[16];

	while (!atomic_load(&t->vm->done)) {
		int n = epoll_wait(t->epfd, ev, 16, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t ticks;
			/* the vCPU in the low half, its timerfd in the high
			 * half: this thread never reads t->fd, which the vCPU
			 * threads write (no ordering TSan could see) */
			uint32_t idx = (uint32_t)ev[i].data.u64;
			int fd = (int)(ev[i].data.u64 >> 32);

			if (idx == UINT32_MAX)
				return NULL; /* stop */
			if (read(fd, &ticks, sizeof(ticks)) !=
			    (ssize_t)sizeof(ticks))
				continue; /* re-armed meanwhile: not expired */
			engine_notify(t->vm, idx);
		}
	}
	return NULL;
}

int vm_timers_init(struct vm *vm)
{
	struct vm_timers *t = calloc(1, sizeof(*t));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = UINT32_MAX };
	int p[2];

	if (!t)
		return -ENOMEM;
	t->vm = vm;
	t->fd = malloc(vm->nr * sizeof(*t->fd));
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!t->fd || t->epfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		free(t->fd);
		if (t->epfd >= 0)
			close(t->epfd);
		free(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < vm->nr; i++)
		t->fd[i] = -1;
	t->wake_fd = p[0];
	t->wake_wr = p[1];
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wake_fd, &ev) < 0 ||
	    pthread_create(&t->thread, NULL, timer_thread, t)) {
		int e = errno ? errno : EAGAIN;

		vm->timers = t;
		vm_timers_stop(vm);
		return -e;
	}
	t->started = true;
	vm->timers = t;
	return 0;
}

/*
 * Called on vCPU idx's own thread (the LAPIC model's timer_arm): the next
 * expiry at deadline_ns (CLOCK_MONOTONIC), UINT64_MAX for none.
 */
int vm_timer_arm(struct vm *vm, uint32_t idx, uint64_t deadline_ns)
{
	struct vm_timers *t = vm->timers;
	struct itimerspec its;

	if (!t || idx >= vm->nr)
		return -EINVAL;
	if (t->fd[idx] < 0) {
		struct epoll_event ev = { .events = EPOLLIN };
		int fd;

		if (deadline_ns == UINT64_MAX)
			return 0;
		fd = timerfd_create(CLOCK_MONOTONIC,
				    TFD_NONBLOCK | TFD_CLOEXEC);
		if (fd < 0)
			return -errno;
		ev.data.u64 = (uint64_t)(uint32_t)fd << 32 | idx;
		if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		t->fd[idx] = fd;
	}
	memset(&its, 0, sizeof(its));
	if (deadline_ns != UINT64_MAX) {
		/* 0 would disarm: a deadline in the past fires at once */
		if (!deadline_ns)
			deadline_ns = 1;
		its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ull);
		its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ull);
	}
	if (timerfd_settime(t->fd[idx], TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

void vm_timers_stop(struct vm *vm)
{
	struct vm_timers *t = vm->timers;

	if (!t)
		return;
	if (t->started) {
		char c = 1;

		if (write(t->wake_wr, &c, 1) != 1)
			pthread_cancel(t->thread);
		pthread_join(t->thread, NULL);
	}
	for (uint32_t i = 0; i < vm->nr; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
	close(t->epfd);
	close(t->wake_fd);
	close(t->wake_wr);
	free(t->fd);
	free(t);
	vm->timers = NULL;
}
