/*
 * log.h -- diagnostic logging to stderr.
 *
 * Owns: the process-wide log level and the format of diagnostic lines
 * ("2026-11-22T14:00:00.123Z level message").  The HTTP access log is a
 * separate JSON-lines stream owned by http/accesslog.
 */
#ifndef KEFU_UTIL_LOG_H
#define KEFU_UTIL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level l);
int log_level_parse(const char *s, enum log_level *out); /* 0 ok, -1 bad */
void log_msg(enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
