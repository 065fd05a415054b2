/*
 * fuzz_imap.c -- libFuzzer target for the IMAP answers the mailbox poller
 * reads (src/text/imap_reply.c): the input is a server's answer to STATUS
 * and to UID SEARCH.  The first byte picks "after" (the poller's mark) and
 * the batch size.
 *
 * Checks: UIDVALIDITY/UIDNEXT are found together or not at all; the UIDs
 * are strictly ascending, all above the mark, at most the batch size,
 * within 32 bits.  Must not crash, leak or hang.
 */
#include <stdint.h>
#include <stdlib.h>

#include "text/imap_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint64_t after = data[0] & 0x0f;
	int max = 1 + (data[0] >> 4);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	uint64_t v, next;
	int found = imap_parse_status(text, len, &v, &next);
	if (found != (v != 0 && next != 0))
		abort();
	uint64_t *u;
	int n = imap_parse_search(text, len, after, max, &u);
	if (n < 0 || n > max || (n == 0 && u))
		abort();
	for (int i = 0; i < n; i++)
		if (u[i] <= after || u[i] > 4294967295ULL || (i && u[i] <= u[i - 1]))
			abort();
	free(u);
	return 0;
}
