#!/bin/sh
# Baseline for the bridged cold path (issue 5): what people do by hand to put
# a guest's tap on the lab bridge, then undo it, with iproute2 commands.
# Usage: ifup-bridge.sh TAP OWNER_UID BRIDGE   (run as root, in a netns)
set -e
tap=$1 uid=$2 br=$3
ip tuntap add dev "$tap" mode tap user "$uid"
ip link set dev "$tap" master "$br"
ip link set dev "$tap" up
# ... QEMU would run here ...
ip link del dev "$tap"
