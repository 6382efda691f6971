/*
 * outbox_int.h - shared by the outbox files only: one libcurl transfer
 * built from a connector request (transport.c), driven by the worker's
 * multi handle (worker.c).
 */
#ifndef SG_OUTBOX_OUTBOX_INT_H
#define SG_OUTBOX_OUTBOX_INT_H

#include <curl/curl.h>

#include "connectors/connector.h"
#include "core/buf.h"
#include "outbox/outbox.h"

/* Response bodies kept for classification and the operator's message;
 * the rest is read and dropped. */
#define SG_OUTBOX_MAX_RESPONSE (64u << 10)

struct sg_xfer {
	CURL *h;
	struct curl_slist *hdrs, *rcpt;
	struct sg_conn_request req;  /* owned */
	struct sg_buf in;            /* response body */
	char retry_after[96], rl_reset[64];
	size_t up_off;               /* SMTP: bytes of the message sent */
	char errbuf[CURL_ERROR_SIZE];
};

/* Makes x->h ready to send x->req (taken over: released by
 * sg_xfer_release). The handle is not added to any multi handle. */
int sg_xfer_setup(struct sg_xfer *x, struct sg_error *err);
/* The response of a finished transfer (strings borrowed from x). */
void sg_xfer_response(struct sg_xfer *x, CURLcode res, struct sg_conn_response *out);
void sg_xfer_release(struct sg_xfer *x);

#endif
