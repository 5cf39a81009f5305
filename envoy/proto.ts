// Small helpers for Envoy's proto3 JSON form.
import type { envoy_config_core_v3_Address as Address } from '../imports/envoy-types';

/** A proto3 JSON Duration ("5s", "0.250s"). */
export function protoDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

export function socketAddress(address: string, port: number): Address {
  return { socket_address: { address, port_value: port } };
}
