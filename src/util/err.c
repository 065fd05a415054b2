/* err.c -- see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_set(struct err *e, int status, const char *code, const char *fmt, ...)
{
	if (!e)
		return;
	e->status = status;
	snprintf(e->code, sizeof e->code, "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->status = 0;
	e->code[0] = e->msg[0] = '\0';
}
