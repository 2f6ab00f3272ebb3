/* DPDK's fast path is static inline in its headers, so Rust cannot call it
 * directly: these thin exported wrappers give it a symbol. */
#ifndef PMDSWITCH_SHIM_H
#define PMDSWITCH_SHIM_H
#include <stdint.h>
struct rte_mbuf;
struct rte_mempool;

uint16_t pmds_eth_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
uint16_t pmds_eth_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n);
int pmds_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned n);
struct rte_mbuf *pmds_pktmbuf_alloc(struct rte_mempool *mp);
void pmds_pktmbuf_free(struct rte_mbuf *m);
char *pmds_pktmbuf_append(struct rte_mbuf *m, uint16_t len);
char *pmds_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len);
char *pmds_pktmbuf_adj(struct rte_mbuf *m, uint16_t len);
void pmds_mbuf_refcnt_update(struct rte_mbuf *m, int16_t v);
void pmds_prefetch0(const void *p);
uint64_t pmds_rdtsc(void);
int pmds_errno(void);
unsigned pmds_lcore_id(void);
uint64_t pmds_rss_ip_tcp_udp(void);
unsigned pmds_mempool_in_use(const struct rte_mempool *mp);
unsigned pmds_mempool_avail(const struct rte_mempool *mp);
#endif
