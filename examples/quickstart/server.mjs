// A small Express app with a leak, for docs/quickstart.md: every order is
// also kept in an audit log that nothing ever trims.
import express from 'express';

const app = express();
app.use(express.json());

const auditLog = [];

function recordOrder(order) {
  const total = order.items.reduce((sum, item) => sum + item.qty * item.price, 0);
  const entry = { id: order.id, total, receivedAt: new Date().toISOString(), note: `order ${order.id}: ${order.items.length} items` };
  auditLog.push(entry); // the leak: kept forever
  return entry;
}

app.post('/orders', (req, res) => {
  const entry = recordOrder(req.body);
  res.json({ ok: true, id: entry.id, total: entry.total });
});

app.get('/health', (_req, res) => res.json({ orders: auditLog.length }));

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
