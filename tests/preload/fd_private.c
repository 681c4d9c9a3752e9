/* fd_private MODE DIR: a program that takes descriptors memlens must not
 * own, then double-frees (a report while it runs) and exits (statistics).
 * MODE all: closes every descriptor, 0-2 included, and opens DIR/f0..f119
 * (fds 0-119).  MODE low: closes 3-1023 as daemons do, opens DIR/f0..f119
 * (fds 3-122) and points its stderr at the last one.  Either way none of
 * the files may receive a byte: the script checks them afterwards. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char name[4096];
	int fd = -1;
	if (argc != 3)
		return 2;
	if (!strcmp(argv[1], "all"))
		for (int i = 0; i < 65536; i++)
			close(i);
	else
		for (int i = 3; i < 1024; i++)
			close(i);
	for (int i = 0; i < 120; i++) {
		snprintf(name, sizeof name, "%s/f%d", argv[2], i);
		fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			return 3;
	}
	if (strcmp(argv[1], "all") && dup2(fd, 2) != 2)
		return 4;
	char *volatile p = malloc(24);
	free(p);
	free(p);
	return 0;
}
