/*
 * demo_data.h -- the demo account's customers, tickets and conversations:
 * a few hundred customers with Chinese and English names and a few
 * thousand tickets across statuses, channels, teams and the last 90 days,
 * so the console and reports have something real to show.
 *
 * Deterministic (a fixed seed), written once: an account that already has
 * tickets is left alone.
 */
#ifndef KEFU_DEMO_DATA_H
#define KEFU_DEMO_DATA_H

#include "store/db.h"

struct demo_size {
	int customers;
	int tickets;
};

/* In the caller's transaction.  Returns the number of tickets created (0
 * when the account had some already) or -1. */
int demo_data_fill(const struct scope *s, const struct demo_size *size,
		   struct err *e);

#endif
