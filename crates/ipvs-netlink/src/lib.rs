//! Linux IPVS (LVS) control over the generic netlink family `IPVS`, and a reconcile that turns
//! a desired table into the minimal sequence of kernel operations.
