#include <rte_config.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include "shim.h"

uint16_t pmds_eth_rx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{ return rte_eth_rx_burst(port, queue, pkts, n); }

uint16_t pmds_eth_tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{ return rte_eth_tx_burst(port, queue, pkts, n); }

int pmds_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **pkts, unsigned n)
{ return rte_pktmbuf_alloc_bulk(mp, pkts, n); }

struct rte_mbuf *pmds_pktmbuf_alloc(struct rte_mempool *mp)
{ return rte_pktmbuf_alloc(mp); }

void pmds_pktmbuf_free(struct rte_mbuf *m) { rte_pktmbuf_free(m); }

char *pmds_pktmbuf_append(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_append(m, len); }
char *pmds_pktmbuf_prepend(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_prepend(m, len); }
char *pmds_pktmbuf_adj(struct rte_mbuf *m, uint16_t len) { return rte_pktmbuf_adj(m, len); }

void pmds_mbuf_refcnt_update(struct rte_mbuf *m, int16_t v) { rte_mbuf_refcnt_update(m, v); }

void pmds_prefetch0(const void *p) { rte_prefetch0(p); }
uint64_t pmds_rdtsc(void) { return rte_rdtsc(); }
int pmds_errno(void) { return rte_errno; }
unsigned pmds_lcore_id(void) { return rte_lcore_id(); }

unsigned pmds_mempool_in_use(const struct rte_mempool *mp) { return rte_mempool_in_use_count(mp); }
unsigned pmds_mempool_avail(const struct rte_mempool *mp) { return rte_mempool_avail_count(mp); }

/* RSS flag macros are built from RTE_BIT64 shifts bindgen cannot evaluate. */
uint64_t pmds_rss_ip_tcp_udp(void) { return RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP; }
