/*
 * ctl_acl.c - govexctl agency, acl (issue 8). Not built yet.
 */
#include "govexctl.h"

int cmd_agency(struct ctl *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return fail_usage(x, "not built yet (issue 8)");
}

int cmd_acl(struct ctl *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return fail_usage(x, "not built yet (issue 8)");
}
