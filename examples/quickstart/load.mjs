// Sends orders to the quickstart server: node load.mjs [port] [requests]
const port = Number(process.argv[2] ?? 3000);
const total = Number(process.argv[3] ?? 5000);
const items = Array.from({ length: 8 }, (_, i) => ({ sku: `sku-${i}`, qty: i + 1, price: 9.5 + i }));
let sent = 0;
async function worker() {
  while (sent < total) {
    const id = sent++;
    const res = await fetch(`http://127.0.0.1:${port}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id, customer: `customer-${id % 500}`, items }),
    });
    await res.arrayBuffer();
  }
}
await Promise.all(Array.from({ length: 16 }, worker));
console.log(`sent ${total} orders`);
