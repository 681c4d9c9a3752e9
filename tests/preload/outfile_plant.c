/* outfile_plant STATS PROF VICTIM: plays the user who predicts memlens's
 * file names: before each process exits it plants symlinks to VICTIM at
 * every name memlens will create for it (STATS.tmp.<pid>, PROF.tmp.<pid>;
 * in a forked child STATS.<pid>, PROF.<pid> and their .tmp.<pid>), then
 * allocates a little.  memlens must write its own files, never VICTIM. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void plant(const char *victim, const char *fmt, const char *base, int pid)
{
	char name[4096];
	snprintf(name, sizeof name, fmt, base, pid, pid);
	if (symlink(victim, name) != 0) {
		perror(name);
		exit(3);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	const char *stats = argv[1], *prof = argv[2], *victim = argv[3];
	pid_t pid = getpid();
	plant(victim, "%s.tmp.%d", stats, pid);
	plant(victim, "%s.tmp.%d", prof, pid);
	pid_t c = fork();
	if (c == 0) {
		pid = getpid();
		for (int i = 0; i < 2; i++) {
			const char *base = i ? prof : stats;
			plant(victim, "%s.%d", base, pid);
			plant(victim, "%s.%d.tmp.%d", base, pid);
		}
		free(malloc(100));
		exit(0);
	}
	int st;
	if (c < 0 || waitpid(c, &st, 0) != c || st != 0)
		return 4;
	free(malloc(200));
	return 0;
}
