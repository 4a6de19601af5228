/*
 * ipcmk KEY: create a System V shared memory segment with the given key (decimal or 0x hex)
 * and print its id. Debian's static busybox has no ipcmk applet; lessons and tests copy this
 * static program into a container to show that IPC objects live in an IPC namespace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/shm.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: ipcmk KEY\n");
    return 2;
  }
  key_t key = (key_t)strtol(argv[1], NULL, 0);
  int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) {
    perror("shmget");
    return 1;
  }
  printf("Shared memory id: %d\n", id);
  return 0;
}
