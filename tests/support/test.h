/*
 * test.h: what every cmocka test file includes (cmocka wants these headers first).
 */
#ifndef JOS_TEST_H
#define JOS_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#endif
