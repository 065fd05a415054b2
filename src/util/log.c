/* log.c -- see log.h.  One fprintf per line so threads do not interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

static enum log_level level = LOG_INFO;

void log_set_level(enum log_level l)
{
	level = l;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const char *names[] = {"debug", "info", "warn", "error"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	static const char *tags[] = {"debug", "info", "warn", "error"};
	if (l < level)
		return;
	char ts[32], line[2048];
	clock_iso8601(clock_now_ms(), ts, sizeof ts);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s %s %s\n", ts, tags[l], line);
}
