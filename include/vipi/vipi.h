/* SPDX-License-Identifier: MIT */
/* libvipi: everything an embedding VMM needs, in one include. */
#ifndef VIPI_VIPI_H
#define VIPI_VIPI_H

#include <vipi/cpuset.h>
#include <vipi/topo.h>
#include <vipi/decode.h>
#include <vipi/deliver.h>
#include <vipi/encode.h>
#include <vipi/method.h>
#include <vipi/x86.h>
#include <vipi/lapic.h>
#include <vipi/hyperv.h>
#include <vipi/gicv3.h>
#include <vipi/abi.h>
#include <vipi/ioapic.h>

#define VIPI_VERSION_MAJOR 0
#define VIPI_VERSION_MINOR 1

#endif
