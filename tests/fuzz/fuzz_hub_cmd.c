/*
 * fuzz_hub_cmd.c -- libFuzzer target for what a WebSocket client may send
 * the hub (api/hub_cmd.c), as an agent's console and as a customer's
 * widget.  The first byte chooses which; the rest is the message.  A
 * parsed command must carry only what its type allows (positive ids, a
 * known presence status) and a refusal must say why.  Must not leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/hub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int customer = data[0] & 1;
	struct hub_cmd c;
	char err[160] = "";
	int rc = hub_cmd_parse((const char *)data + 1, size - 1, customer, &c, err, sizeof err);
	if (rc < 0) {
		if (!err[0])
			abort();
		return 0;
	}
	switch (c.type) {
	case CMD_TYPING:
	case CMD_READ:
		if (!customer && c.ticket_id <= 0)
			abort();
		if (c.type == CMD_READ && c.message_id <= 0)
			abort();
		break;
	case CMD_VIEWING:
	case CMD_PRESENCE:
		if (customer)
			abort();
		if (c.type == CMD_PRESENCE && strcmp(c.status, "online") &&
		    strcmp(c.status, "away") && strcmp(c.status, "offline"))
			abort();
		break;
	case CMD_PING:
	case CMD_ACTIVITY:
		break;
	}
	return 0;
}
