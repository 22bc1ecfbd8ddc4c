// SPDX-License-Identifier: MIT
/*
 * The machine probe the benchmarks record: CPU model (/proc/cpuinfo),
 * online CPUs, KVM's module and whether it is nested, whether this Linux
 * itself runs in a VM, the kernel. `vipi bench` and `vipi bench linux`
 * write it as their "machine" object; `vipi bench lib` prints and writes
 * its CPU model.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "json.h"
#include "machine.h"
#include "util.h"

static void read_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

void bench_machine_probe(struct bench_machine *m)
{
	static const char *const mods[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], path[128];
	struct utsname u;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	snprintf(m->cpu, sizeof(m->cpu), "unknown");
	snprintf(m->kvm_backend, sizeof(m->kvm_backend), "unknown");
	snprintf(m->nested, sizeof(m->nested), "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (!strncmp(line, "model name", 10) &&
		    !strcmp(m->cpu, "unknown")) {
			colon++;
			colon += strspn(colon, " \t");
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(m->cpu, sizeof(m->cpu), "%s", colon);
		} else if (!strncmp(line, "flags", 5)) {
			/* CPUID.1:ECX[31]: this Linux itself runs in a VM */
			if (strstr(colon, " hypervisor"))
				m->host_is_guest = true;
			break;
		}
	}
	if (f)
		fclose(f);
	m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	for (i = 0; i < ARRAY_SIZE(mods); i++) {
		struct stat st;

		snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
		if (stat(path, &st))
			continue;
		snprintf(m->kvm_backend, sizeof(m->kvm_backend), "%s", mods[i]);
		snprintf(path, sizeof(path), "/sys/module/%s/parameters/nested",
			 mods[i]);
		read_first_line(path, line, sizeof(line));
		if (line[0])
			snprintf(m->nested, sizeof(m->nested), "nested=%s%s",
				 line, m->host_is_guest ? ", inside a VM" : "");
		else
			snprintf(m->nested, sizeof(m->nested), "%s",
				 m->host_is_guest ?
					 "KVM inside a VM (software backend)" :
					 "bare metal");
		break;
	}
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "%.30s %.90s", u.sysname,
			 u.release);
}

/* The "machine" object of bench.json and linux.json */
void bench_machine_write(struct json *j, const struct bench_machine *m)
{
	json_key(j, "machine");
	json_object_begin(j);
	json_kv_str(j, "cpu_model", m->cpu);
	json_kv_i64(j, "nproc", m->nproc);
	json_kv_str(j, "kvm_backend", m->kvm_backend);
	json_kv_str(j, "kvm_nested", m->nested);
	json_kv_bool(j, "host_is_guest", m->host_is_guest);
	json_kv_str(j, "kernel", m->kernel);
	json_object_end(j);
}

/* The same, probed now; a one-line summary in summary (when not NULL) */
void bench_machine_json(struct json *j, char *summary, size_t len)
{
	struct bench_machine m;

	bench_machine_probe(&m);
	bench_machine_write(j, &m);
	if (summary && len)
		snprintf(summary, len, "%s, %ld CPUs, KVM %s (%s)", m.cpu,
			 m.nproc, m.kvm_backend, m.nested);
}
