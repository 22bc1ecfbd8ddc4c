// SPDX-License-Identifier: MIT
/* `vipi report` (placeholder while the report is written). */
#include "../tools/cmds.h"
#include "../tools/util.h"

int cmd_report(int argc, char **argv)
{
	return util_fail("report", "not yet");
}
