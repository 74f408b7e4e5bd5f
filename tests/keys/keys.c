/*
 * tests/keys/keys.c: key defaults, copying and the strict parameter setter.
 */
#include "support/test.h"

#include <string.h>

#include "keys/keys.h"

static int set(jos_key *k, const char *name, const char *value, jos_err *err)
{
	return key_param_set(k, name, value, "settlement.ini", 7, err);
}

static void test_key_init__spec_defaults(void **state)
{
	jos_key k;
	(void)state;
	assert_int_equal(key_init(&k, "standard"), JOS_OK);
	assert_string_equal(k.id, "standard");
	assert_false(k.has_method);
	assert_int_equal(k.min_pupils, 0);
	assert_int_equal(k.discount, 0);
	assert_int_equal(k.phase_in, JOS_MICRO_ONE);
	assert_int_equal(k.min_school_share, 0);
	assert_false(k.has_cap);
	assert_int_equal(key_weight_for(&k, "lvb"), JOS_MICRO_ONE);
	assert_false(key_tariff_for(&k, "SO", NULL));
	key_free(&k);
	assert_int_equal(key_init(&k, NULL), JOS_OK);
	assert_null(k.id);
	key_free(&k);
}

static void test_key_param_set__every_parameter(void **state)
{
	jos_key k;
	jos_err err;
	jos_cents t;
	(void)state;
	key_init(&k, "k");
	assert_int_equal(set(&k, "Method", "Pooled", &err), JOS_OK);
	assert_true(k.has_method);
	assert_int_equal(k.method, KEY_POOLED);
	assert_string_equal(key_method_name(k.method), "pooled");
	assert_int_equal(set(&k, "MIN_PUPILS", "3", &err), JOS_OK);
	assert_int_equal(k.min_pupils, 3);
	assert_int_equal(set(&k, "discount", "0.125", &err), JOS_OK);
	assert_int_equal(k.discount, 125000);
	assert_int_equal(set(&k, "phase_in", "0.333333", &err), JOS_OK);
	assert_int_equal(k.phase_in, 333333);
	assert_int_equal(set(&k, "min_school_share", "1", &err), JOS_OK);
	assert_int_equal(k.min_school_share, JOS_MICRO_ONE);
	assert_int_equal(set(&k, "cap", "25000.50", &err), JOS_OK);
	assert_true(k.has_cap);
	assert_int_equal(k.cap, 2500050);
	assert_int_equal(set(&k, "cap", "", &err), JOS_OK);
	assert_false(k.has_cap);
	assert_int_equal(set(&k, "weight.LVB", "1.5", &err), JOS_OK);
	assert_int_equal(set(&k, "Weight. Zeer Moeilijk ", "0", &err), JOS_OK);
	assert_int_equal(key_weight_for(&k, "  lvb\t"), 1500000);
	assert_int_equal(key_weight_for(&k, "zeer moeilijk"), 0);
	assert_int_equal(key_weight_for(&k, ""), JOS_MICRO_ONE);
	assert_int_equal(key_weight_for(&k, "other"), JOS_MICRO_ONE);
	assert_int_equal(set(&k, "tariff.SO/VSO", "4500.00", &err), JOS_OK);
	assert_int_equal(set(&k, "tariff.so", "0", &err), JOS_OK);
	assert_true(key_tariff_for(&k, "so/vso", &t));
	assert_int_equal(t, 450000);
	assert_true(key_tariff_for(&k, " SO ", &t));
	assert_int_equal(t, 0);
	assert_false(key_tariff_for(&k, "VSO", &t));   /* SO/VSO is a type of its own */
	key_free(&k);
}

static void test_key_param_set__errors(void **state)
{
	jos_key k;
	jos_err err;
	(void)state;
	key_init(&k, "k");
	assert_int_equal(set(&k, "discont", "0.1", &err), JOS_EINVALID);
	assert_string_equal(err.msg, "unknown key parameter 'discont'");
	assert_string_equal(err.file, "settlement.ini");
	assert_int_equal(err.line, 7);
	assert_int_equal(set(&k, "method", "average", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "discount", "1.5", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "discount", "-0.1", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "discount", "0.1234567", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "discount", "0,1", &err), JOS_EINVALID);
	assert_int_equal(k.discount, 0);   /* untouched by the failures */
	assert_int_equal(set(&k, "phase_in", "", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "min_pupils", "-1", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "min_pupils", "2.5", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "cap", "-1.00", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "cap", "1,00", &err), JOS_EINVALID);   /* '.' only */
	assert_int_equal(set(&k, "cap", "1.000", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "weight.lvb", "-1", &err), JOS_EINVALID);
	assert_non_null(strstr(err.msg, "negative"));
	assert_int_equal(set(&k, "weight.", "1", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "tariff.SO", "-100", &err), JOS_EINVALID);
	assert_int_equal(set(&k, "tariff.SO", "", &err), JOS_EINVALID);
	/* the same weight or tariff twice (any spelling) is an error ... */
	assert_int_equal(set(&k, "weight.LVB", "2", &err), JOS_OK);
	assert_int_equal(set(&k, "weight. lvb", "3", &err), JOS_EINVALID);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(set(&k, "tariff.VSO", "2", &err), JOS_OK);
	assert_int_equal(set(&k, "TARIFF.vso", "3", &err), JOS_EINVALID);
	/* ... but an override replaces it */
	assert_int_equal(key_param_override(&k, "weight.Lvb", "3", "s.ini", 2, &err), JOS_OK);
	assert_int_equal(key_weight_for(&k, "lvb"), 3000000);
	assert_int_equal(k.nweights, 1);
	key_free(&k);
}

static void test_key_copy__deep(void **state)
{
	jos_key k, c;
	jos_err err;
	(void)state;
	key_init(&k, "orig");
	set(&k, "method", "tariff", &err);
	set(&k, "weight.a", "2", &err);
	set(&k, "tariff.SO", "10", &err);
	set(&k, "cap", "5", &err);
	assert_int_equal(key_copy(&c, &k), JOS_OK);
	key_free(&k);   /* the copy must not share anything */
	assert_string_equal(c.id, "orig");
	assert_int_equal(c.method, KEY_TARIFF);
	assert_int_equal(key_weight_for(&c, "A"), 2000000);
	jos_cents t;
	assert_true(key_tariff_for(&c, "so", &t));
	assert_int_equal(t, 1000);
	assert_true(c.has_cap);
	assert_int_equal(c.cap, 500);
	key_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_init__spec_defaults),
		cmocka_unit_test(test_key_param_set__every_parameter),
		cmocka_unit_test(test_key_param_set__errors),
		cmocka_unit_test(test_key_copy__deep),
	};
	return cmocka_run_group_tests_name("keys/keys", tests, NULL, NULL);
}
