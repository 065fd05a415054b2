/*
 * test_mail_out.c -- the pieces of the e-mail channel that talk to servers
 * without a server: src/text/mime_build (what a reply mail looks like,
 * checked by reading it back with src/text/mime and by its raw bytes) and
 * src/text/imap_reply (the STATUS and UID SEARCH answers the poller reads,
 * as Dovecot, Gmail and Exchange write them, and broken ones).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "text/imap_reply.h"
#include "text/mime.h"
#include "text/mime_build.h"
#include "util/buf.h"

/* ---- mime_build ---- */

static const char *const refs[] = {"root@example.cn", "second@example.cn"};

static struct mime_out reply(void)
{
	return (struct mime_out){
		.from_name = "Kefu 客服", .from_addr = "support@shop.example",
		.to_name = "张三", .to_addr = "zhangsan@example.cn",
		.reply_to = "support@shop.example", .subject = "Re: 退款问题 [#42]",
		.message_id = "kefu.42.7.abcdef@shop.example", .in_reply_to = "second@example.cn",
		.references = refs, .nrefs = 2, .date_ms = 1795380000000LL,
		.text = "您好，\n退款已办理。\n.\n", .html = "<p>您好，</p><p>退款已办理。</p>",
	};
}

static void test_build_reads_back(void **state)
{
	(void)state;
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
	struct mime_out_att att = {.filename = "发票 2026.png", .content_type = "image/png",
				   .data = png, .len = sizeof png};
	struct mime_out m = reply();
	m.atts = &att;
	m.natts = 1;
	struct buf raw = BUF_INIT;
	struct err e = {0};
	assert_int_equal(mime_build(&m, &raw, &e), 0);
	/* 7-bit headers and body, CRLF line ends only. */
	for (size_t i = 0; i < raw.len; i++) {
		assert_true((unsigned char)raw.data[i] < 0x80);
		if (raw.data[i] == '\n')
			assert_true(i > 0 && raw.data[i - 1] == '\r');
	}
	assert_non_null(strstr(raw.data, "\r\nIn-Reply-To: <second@example.cn>\r\n"));
	assert_non_null(strstr(raw.data, "References: <root@example.cn> <second@example.cn>"));
	assert_non_null(strstr(raw.data, "multipart/mixed"));
	assert_non_null(strstr(raw.data, "multipart/alternative"));

	struct mime_msg p;
	assert_int_equal(mime_parse(raw.data, raw.len, &p, &e), 0);
	assert_string_equal(p.subject, "Re: 退款问题 [#42]");
	assert_string_equal(p.from.name, "Kefu 客服");
	assert_string_equal(p.from.addr, "support@shop.example");
	assert_int_equal(p.nto, 1);
	assert_string_equal(p.to[0].addr, "zhangsan@example.cn");
	assert_string_equal(p.reply_to.addr, "support@shop.example");
	assert_string_equal(p.message_id, "kefu.42.7.abcdef@shop.example");
	assert_string_equal(p.in_reply_to, "second@example.cn");
	assert_int_equal(p.nrefs, 2);
	assert_string_equal(p.references[0], "root@example.cn");
	assert_int_equal(p.date_ms, 1795380000000LL);
	assert_string_equal(p.text, "您好，\n退款已办理。\n.\n");
	assert_non_null(strstr(p.html, "退款已办理"));
	assert_int_equal(p.natts, 1);
	assert_string_equal(p.atts[0].filename, "发票 2026.png");
	assert_int_equal(p.atts[0].len, sizeof png);
	assert_memory_equal(p.atts[0].data, png, sizeof png);
	mime_msg_free(&p);
	buf_free(&raw);
}

static void test_build_refuses_header_injection(void **state)
{
	(void)state;
	struct buf raw = BUF_INIT;
	struct err e = {0};
	struct mime_out m = reply();
	m.to_addr = "a@example.cn\r\nBcc: everyone@example.cn";
	assert_int_equal(mime_build(&m, &raw, &e), -1);
	assert_int_equal(e.status, 400);
	m = reply();
	m.message_id = NULL;
	assert_int_equal(mime_build(&m, &raw, &e), -1);
	const char *bad_refs[] = {"ok@example.cn", "two> <ids@example.cn"};
	m = reply();
	m.references = bad_refs;
	assert_int_equal(mime_build(&m, &raw, &e), -1);
	assert_int_equal(raw.len, 0);
	buf_free(&raw);
}

/* ---- imap_reply ---- */

static void test_status(void **state)
{
	(void)state;
	uint64_t v, next;
	const char *dovecot = "* STATUS INBOX (UIDVALIDITY 1795378724 UIDNEXT 7)\r\n";
	assert_int_equal(imap_parse_status(dovecot, strlen(dovecot), &v, &next), 1);
	assert_int_equal(v, 1795378724);
	assert_int_equal(next, 7);
	/* Other order, lower case, a quoted name with a space, LF lines. */
	const char *other = "* OK still here\n* status \"Sent Items\" (uidnext 12 messages 3 uidvalidity 9)\n";
	assert_int_equal(imap_parse_status(other, strlen(other), &v, &next), 1);
	assert_int_equal(v, 9);
	assert_int_equal(next, 12);
	/* Missing, oversized or not numbers: not found, nothing guessed. */
	const char *bad[] = {"* STATUS INBOX (UIDNEXT 5)\r\n",
		"* STATUS INBOX (UIDVALIDITY 99999999999 UIDNEXT 5)\r\n",
		"* STATUS INBOX (UIDVALIDITY x UIDNEXT 5)\r\n", "", "* STATUS INBOX\r\n",
		"* STATUS INBOX (XUIDVALIDITY 4 UIDNEXT 5)\r\n"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(imap_parse_status(bad[i], strlen(bad[i]), &v, &next), 0);
}

static void test_search(void **state)
{
	(void)state;
	uint64_t *u;
	/* "n:*" always includes the highest UID, even below n: filtered. */
	const char *one = "* SEARCH 4\r\n";
	assert_int_equal(imap_parse_search(one, strlen(one), 6, 100, &u), 0);
	assert_null(u);
	const char *many = "* SEARCH 9 7 8 7 12\r\n* SEARCH 15 (MODSEQ 1234)\r\n";
	int n = imap_parse_search(many, strlen(many), 7, 100, &u);
	assert_int_equal(n, 4);
	uint64_t want[] = {8, 9, 12, 15};
	for (int i = 0; i < n; i++)
		assert_int_equal(u[i], want[i]);
	free(u);
	/* At most max, the oldest first. */
	n = imap_parse_search(many, strlen(many), 0, 2, &u);
	assert_int_equal(n, 2);
	assert_int_equal(u[0], 7);
	assert_int_equal(u[1], 8);
	free(u);
	const char *empty = "* SEARCH\r\n";
	assert_int_equal(imap_parse_search(empty, strlen(empty), 0, 10, &u), 0);
	const char *junk = "* SEARCH 4294967296 -3 0x10 5\r\n* 3 EXISTS\r\n";
	n = imap_parse_search(junk, strlen(junk), 0, 10, &u);
	assert_int_equal(n, 1);
	assert_int_equal(u[0], 5);
	free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_reads_back),
		cmocka_unit_test(test_build_refuses_header_injection),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
