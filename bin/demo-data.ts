// A demo hotel for a fresh installation, created through the public API like any other hotel.

async function waitReady(base: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the API did not become ready');
}

/** Create the demo hotel when no hotel exists; answers its id, or undefined when hotels exist already. */
export async function seedDemoHotel(base: string, adminToken: string): Promise<string | undefined> {
  await waitReady(base);
  const list = (await (await fetch(`${base}/v1/hotels?limit=1`)).json()) as { items: unknown[] };
  if (list.items.length > 0) return undefined;
  const post = async (path: string, body: unknown) => {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
        body: JSON.stringify(body),
      });
      // The worker may still be taking its shards: a 503 is retried.
      if (r.status === 503 && attempt < 20) {
        await new Promise((res) => setTimeout(res, 500));
        continue;
      }
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { id: string };
    }
  };
  const hotel = await post('/v1/hotels', {
    name: 'Hôtel des Démos',
    city: 'Paris',
    country: 'FR',
    timezone: 'Europe/Paris',
    currency: 'EUR',
  });
  for (const rt of [
    { name: 'Single', maxGuests: 1, totalInventory: 8, baseRate: 9000 },
    { name: 'Double', maxGuests: 2, totalInventory: 20, baseRate: 15000 },
    { name: 'Suite', maxGuests: 4, totalInventory: 3, baseRate: 42000 },
  ]) {
    await post(`/v1/hotels/${hotel.id}/room-types`, rt);
  }
  return hotel.id;
}
