/*
 * inbound.h -- the API channel's inbound message format, for the handler
 * and the ingest fuzzer:
 *   {"external_id": "...", "conversation_id": "...",
 *    "customer": {"id", "name", "email", "phone"},
 *    "subject": "...", "text": "...", "attachments": [ids]}
 */
#ifndef KEFU_API_INBOUND_H
#define KEFU_API_INBOUND_H

#include <jansson.h>

#include "../core/ingest.h"

/* Fills m (pointers into body, which must outlive m); 400 on bad input. */
int api_inbound_parse(const json_t *body, struct inbound_msg *m, struct err *e);

#endif
