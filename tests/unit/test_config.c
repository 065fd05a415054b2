/* test_config.c -- settings precedence: flag > environment > INI > default. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char ini_path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(ini_path, sizeof ini_path, "/tmp/kefu-test-%d.ini", (int)getpid());
	FILE *f = fopen(ini_path, "w");
	fputs("[kefu]\nlisten = 127.0.0.1:7001\nworkers = 3\nmax_body = 2M\n"
	      "data = /tmp/from-ini\n", f);
	fclose(f);
	unsetenv("KEFU_LISTEN");
	unsetenv("KEFU_WORKERS");
	unsetenv("KEFU_CONFIG");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(ini_path);
	unsetenv("KEFU_LISTEN");
	unsetenv("KEFU_WORKERS");
	unsetenv("KEFU_CONFIG");
	return 0;
}

static void defaults_apply(void **state)
{
	(void)state;
	struct config c;
	struct err e = {0};
	char *argv[] = {NULL};
	assert_int_equal(config_load(&c, 0, argv, NULL, NULL, &e), 0);
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_string_equal(c.database, "sqlite://data/kefu.db");
	assert_int_equal(c.max_body_bytes, 1024 * 1024);
	assert_true(c.workers >= 4);
	config_free(&c);
}

static void precedence(void **state)
{
	(void)state;
	struct config c;
	struct err e = {0};
	char a0[] = "--config", a1[80], a2[] = "--workers=9";
	snprintf(a1, sizeof a1, "%s", ini_path);
	char *argv[] = {a0, a1, a2};

	/* INI over default */
	assert_int_equal(config_load(&c, 2, argv, NULL, NULL, &e), 0);
	assert_string_equal(c.listen, "127.0.0.1:7001");
	assert_int_equal(c.workers, 3);
	assert_int_equal(c.max_body_bytes, 2 * 1024 * 1024);
	assert_string_equal(c.database, "sqlite:///tmp/from-ini/kefu.db");
	config_free(&c);

	/* environment over INI, flag over environment */
	setenv("KEFU_LISTEN", "127.0.0.1:7002", 1);
	setenv("KEFU_WORKERS", "5", 1);
	assert_int_equal(config_load(&c, 3, argv, NULL, NULL, &e), 0);
	assert_string_equal(c.listen, "127.0.0.1:7002");
	assert_int_equal(c.workers, 9);
	config_free(&c);

	/* KEFU_CONFIG names the file too */
	setenv("KEFU_CONFIG", ini_path, 1);
	unsetenv("KEFU_LISTEN");
	assert_int_equal(config_load(&c, 0, argv, NULL, NULL, &e), 0);
	assert_string_equal(c.listen, "127.0.0.1:7001");
	config_free(&c);
}

static void bad_values_are_errors(void **state)
{
	(void)state;
	struct config c;
	struct err e = {0};
	char a0[] = "--workers", a1[] = "many", b0[] = "--colour=blue";
	char *argv[] = {a0, a1};
	assert_int_equal(config_load(&c, 2, argv, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "workers"));
	config_free(&c);
	char *argv2[] = {b0};
	assert_int_equal(config_load(&c, 1, argv2, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "unknown option --colour"));
	config_free(&c);
	char m0[] = "--max-body";
	char *argv3[] = {m0};
	assert_int_equal(config_load(&c, 1, argv3, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "needs a value"));
	config_free(&c);
}

static void positional_arguments_are_returned(void **state)
{
	(void)state;
	struct config c;
	struct err e = {0};
	char a0[] = "extra", a1[] = "--data", a2[] = "/tmp/x";
	char *argv[] = {a0, a1, a2}, *rest[4];
	int nrest = 0;
	assert_int_equal(config_load(&c, 3, argv, rest, &nrest, &e), 0);
	assert_int_equal(nrest, 1);
	assert_string_equal(rest[0], "extra");
	assert_string_equal(c.data, "/tmp/x");
	config_free(&c);
}

static void listen_parsing(void **state)
{
	(void)state;
	struct config c = {0};
	char host[64];
	int port;
	char l1[] = "0.0.0.0:80", l2[] = "[::1]:8443", l3[] = "nohost", l4[] = "h:99999";
	c.listen = l1;
	assert_int_equal(config_listen(&c, host, sizeof host, &port), 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 80);
	c.listen = l2;
	assert_int_equal(config_listen(&c, host, sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8443);
	c.listen = l3;
	assert_int_equal(config_listen(&c, host, sizeof host, &port), -1);
	c.listen = l4;
	assert_int_equal(config_listen(&c, host, sizeof host, &port), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(defaults_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_values_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(positional_arguments_are_returned, setup, teardown),
		cmocka_unit_test(listen_parsing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
