// nfqueue-flood.c: the benchmark's UDP traffic source and sink (bench/nfqueue.bench.mjs).
//   flood DST PORT SECONDS PPS   send 64-byte UDP datagrams with sendmmsg for SECONDS (PPS 0 = as
//                                fast as possible, else paced in 1 ms steps); prints {"sent":N}
//   sink ADDR PORT SECONDS       bind and never read (accepted datagrams end in the socket buffer
//                                without an ICMP reply); exits after SECONDS
// Bounded in time; only ever run inside the benchmark's own namespaces.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  if (argc >= 5 && strcmp(argv[1], "flood") == 0) {
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &dst.sin_addr);
    double seconds = atof(argv[4]);
    long pps = argc >= 6 ? atol(argv[5]) : 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr*)&dst, sizeof dst) != 0) { perror("socket"); return 1; }
    enum { B = 64 };
    char payload[64];
    memset(payload, 'x', sizeof payload);
    struct iovec iov[B];
    struct mmsghdr msgs[B];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < B; i++) {
      iov[i].iov_base = payload;
      iov[i].iov_len = sizeof payload;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    double t0 = now(), end = t0 + seconds;
    long sent = 0;
    while (now() < end) {
      int n = B;
      if (pps > 0) {
        long due = (long)((now() - t0) * pps) - sent;
        if (due <= 0) { struct timespec s = {0, 200000}; nanosleep(&s, NULL); continue; }
        if (due < n) n = (int)due;
      }
      int r = sendmmsg(fd, msgs, n, 0);
      if (r > 0) sent += r;
    }
    printf("{\"sent\":%ld}\n", sent);
    return 0;
  }
  if (argc >= 5 && strcmp(argv[1], "sink") == 0) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
    inet_pton(AF_INET, argv[2], &a.sin_addr);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr*)&a, sizeof a) != 0) { perror("bind"); return 1; }
    printf("ready\n");
    fflush(stdout);
    sleep((unsigned)atoi(argv[4]));
    return 0;
  }
  fprintf(stderr, "usage: flood DST PORT SECONDS [PPS] | sink ADDR PORT SECONDS\n");
  return 2;
}
