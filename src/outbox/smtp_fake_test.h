/*
 * smtp_fake_test.h - a tiny SMTP server for the e-mail connector tests:
 * one thread on 127.0.0.1, port 0, one session at a time; records the
 * envelope (MAIL FROM, RCPT TO) and the message, and answers RCPT and the
 * end of DATA with scripted codes (250 by default). Test-only.
 */
#ifndef SG_OUTBOX_SMTP_FAKE_TEST_H
#define SG_OUTBOX_SMTP_FAKE_TEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct smtp_fake {
	int lfd;
	unsigned port;
	pthread_t th;
	volatile int stop;
	pthread_mutex_t mu;
	int rcpt_code, data_code;  /* what RCPT and end-of-DATA answer */
	int stall_ms;              /* wait this long before the greeting */
	int sessions, messages;
	char mail_from[256], rcpt_to[256];
	char message[8192];
};

static inline int smtp_fake_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		char c;
		ssize_t k = recv(fd, &c, 1, 0);
		if (k <= 0)
			return -1;
		buf[n++] = c;
		if (c == '\n')
			break;
	}
	buf[n] = 0;
	return (int)n;
}

static inline void smtp_fake_say(int fd, const char *s)
{
	ssize_t k = send(fd, s, strlen(s), MSG_NOSIGNAL);
	(void)k;
}

static inline void smtp_fake_session(struct smtp_fake *f, int fd)
{
	char line[1024], reply[128];
	if (f->stall_ms > 0) {
		struct pollfd p = {fd, POLLIN, 0};
		poll(&p, 0, f->stall_ms);
	}
	smtp_fake_say(fd, "220 fake ESMTP\r\n");
	while (smtp_fake_line(fd, line, sizeof(line)) > 0) {
		if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
			smtp_fake_say(fd, "250-fake\r\n250 8BITMIME\r\n");
		} else if (!strncasecmp(line, "MAIL FROM:", 10)) {
			pthread_mutex_lock(&f->mu);
			snprintf(f->mail_from, sizeof(f->mail_from), "%.*s",
				 (int)strcspn(line + 10, "\r\n"), line + 10);
			pthread_mutex_unlock(&f->mu);
			smtp_fake_say(fd, "250 ok\r\n");
		} else if (!strncasecmp(line, "RCPT TO:", 8)) {
			pthread_mutex_lock(&f->mu);
			snprintf(f->rcpt_to, sizeof(f->rcpt_to), "%.*s",
				 (int)strcspn(line + 8, "\r\n"), line + 8);
			int code = f->rcpt_code;
			pthread_mutex_unlock(&f->mu);
			snprintf(reply, sizeof(reply), "%d %s\r\n", code,
				 code < 300 ? "ok" : "mailbox unavailable");
			smtp_fake_say(fd, reply);
		} else if (!strncasecmp(line, "DATA", 4)) {
			smtp_fake_say(fd, "354 go ahead\r\n");
			char msg[8192];
			size_t n = 0;
			msg[0] = 0;
			while (smtp_fake_line(fd, line, sizeof(line)) > 0) {
				if (!strcmp(line, ".\r\n"))
					break;
				size_t k = strlen(line);
				if (n + k < sizeof(msg)) {
					memcpy(msg + n, line, k + 1);
					n += k;
				}
			}
			pthread_mutex_lock(&f->mu);
			memcpy(f->message, msg, n + 1);
			int code = f->data_code;
			if (code < 300)
				f->messages++;
			pthread_mutex_unlock(&f->mu);
			snprintf(reply, sizeof(reply), "%d %s\r\n", code,
				 code < 300 ? "queued" : code < 500 ? "try later" : "rejected");
			smtp_fake_say(fd, reply);
		} else if (!strncasecmp(line, "QUIT", 4)) {
			smtp_fake_say(fd, "221 bye\r\n");
			break;
		} else if (!strncasecmp(line, "RSET", 4) || !strncasecmp(line, "NOOP", 4)) {
			smtp_fake_say(fd, "250 ok\r\n");
		} else {
			smtp_fake_say(fd, "502 not implemented\r\n");
		}
	}
}

static inline void *smtp_fake_main(void *arg)
{
	struct smtp_fake *f = arg;
	while (!f->stop) {
		struct pollfd p = {f->lfd, POLLIN, 0};
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(f->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&f->mu);
		f->sessions++;
		pthread_mutex_unlock(&f->mu);
		smtp_fake_session(f, fd);
		close(fd);
	}
	return NULL;
}

static inline int smtp_fake_start(struct smtp_fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->mu, NULL);
	f->rcpt_code = 250;
	f->data_code = 250;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 8) < 0 || getsockname(f->lfd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	f->port = ntohs(sa.sin_port);
	return pthread_create(&f->th, NULL, smtp_fake_main, f) ? -1 : 0;
}

static inline void smtp_fake_stop(struct smtp_fake *f)
{
	f->stop = 1;
	pthread_join(f->th, NULL);
	close(f->lfd);
	pthread_mutex_destroy(&f->mu);
}

#endif
