/* Headers bindgen reads: EAL, lcore, mempool, mbuf, ethdev, vhost. */
#include <rte_config.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_errno.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_bus.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>
#include <rte_vhost.h>
#include "shim.h"
