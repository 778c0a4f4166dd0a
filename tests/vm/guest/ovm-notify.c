/* ovm-notify: send READY=1 to $NOTIFY_SOCKET, as sd_notify(3) does; a static stand-in for
 * systemd-notify inside a busybox root file system (the container-mode readiness check). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

int main(void) {
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) { fprintf(stderr, "ovm-notify: no NOTIFY_SOCKET\n"); return 1; }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t len = strlen(path);
    if (len >= sizeof addr.sun_path) { fprintf(stderr, "ovm-notify: path too long\n"); return 1; }
    memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    const char msg[] = "READY=1";
    if (fd < 0 || sendto(fd, msg, sizeof msg - 1, 0, (struct sockaddr *)&addr,
                         (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
        perror("ovm-notify");
        return 1;
    }
    return 0;
}
