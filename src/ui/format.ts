const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

export function formatCount(value: number): string {
  return integer.format(value);
}

export function formatRate(value: number): string {
  return `${oneDecimal.format(value)} tok/s`;
}

export function formatMs(value: number): string {
  return value >= 1000 ? `${oneDecimal.format(value / 1000)} s` : `${integer.format(value)} ms`;
}

export function formatBytes(value: number): string {
  if (value >= 1 << 30) return `${oneDecimal.format(value / (1 << 30))} GiB`;
  if (value >= 1 << 20) return `${oneDecimal.format(value / (1 << 20))} MiB`;
  if (value >= 1 << 10) return `${oneDecimal.format(value / (1 << 10))} KiB`;
  return `${integer.format(value)} B`;
}
