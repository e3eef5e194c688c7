// Hotels, room types, rooms, inventory and rates. Every change that a decision reads goes through the hotel's
// writer as a command; rooms (numbers and floors, read by no decision) are written directly.
import { Router, type Request } from 'express';
import type { Command } from '../../engine/core/types.js';
import { v7 as uuidv7 } from 'uuid';
import { pageLimitDefault } from '../../engine/limits.js';
import {
  hotelCreateBody,
  hotelListQuery,
  hotelUpdateBody,
  inventoryBody,
  pageQuery,
  pricingBody,
  ratesBody,
  roomCreateBody,
  roomTypeCreateBody,
  roomTypeUpdateBody,
  roomUpdateBody,
} from '../../schemas/http.js';
import { decodeCursor } from '../../engine/store/shard-reader.js';
import { requireHotelAccess, requireRole } from '../auth.js';
import type { ApiContext } from '../context.js';
import { idOfCreate } from '../creation-key.js';
import { ApiError, notFound } from '../errors.js';
import { acceptedOf } from '../outcome.js';
import { hotelJson, roomTypeJson } from '../representation.js';
import { searchHotels } from '../hotel-search.js';
import { bodyOf, parse, pathId } from '../validate.js';

export function hotelRoutes(ctx: ApiContext): Router {
  const r = Router();
  // Every command names who asked (the audit trail's actor).
  // Each command carries its request's X-Request-Id (the worker's logs) and who asked (the audit trail).
  const send = (req: Pick<Request, 'principal' | 'requestId'>, command: Command) =>
    ctx.router.send(command, req.requestId, req.principal ? { kind: req.principal.kind, id: req.principal.id } : undefined);

  r.post('/v1/hotels', async (req, res) => {
    const p = requireRole(req, 'admin');
    const fields = parse(hotelCreateBody, bodyOf(req));
    const hotelId = await idOfCreate(ctx, req, p, 'hotel', fields);
    const a = acceptedOf(await send(req, { kind: 'createHotel', hotelId, fields }), 'hotel');
    if (a.kind !== 'hotel') throw new Error('assertion: createHotel answered ' + a.kind);
    res.status(201).location(`/v1/hotels/${hotelId}`).json(hotelJson(a.hotel));
  });

  r.get('/v1/hotels', async (req, res) => {
    const q = parse(hotelListQuery, req.query, 'query');
    if (q.checkIn !== undefined || q.checkOut !== undefined || q.guests !== undefined || q.rooms !== undefined) {
      res.json(await searchHotels(ctx, { ...q, cursor: decodeCursor(q.cursor), limit: q.limit ?? pageLimitDefault }));
      return;
    }
    const page = await ctx.reader.listHotels(q.city, decodeCursor(q.cursor), q.limit ?? pageLimitDefault);
    res.json({ items: page.items.map(hotelJson), nextCursor: page.nextCursor });
  });

  r.get('/v1/hotels/:hotelId', async (req, res) => {
    const h = await ctx.reader.hotel(pathId(req.params.hotelId, 'hotelId'));
    if (!h) throw notFound('hotel');
    res.json(hotelJson(h));
  });

  r.put('/v1/hotels/:hotelId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    const patch = parse(hotelUpdateBody, bodyOf(req));
    const a = acceptedOf(await send(req, { kind: 'updateHotel', hotelId, patch }), 'change');
    if (a.kind !== 'hotel') throw new Error('assertion: updateHotel answered ' + a.kind);
    res.json(hotelJson(a.hotel));
  });

  r.delete('/v1/hotels/:hotelId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireRole(req, 'admin');
    acceptedOf(await send(req, { kind: 'deleteHotel', hotelId }), 'deletion');
    res.status(204).end();
  });

  // Room types ---------------------------------------------------------------------------------------------------

  r.post('/v1/hotels/:hotelId/room-types', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const p = requireHotelAccess(req, hotelId, ['staff']);
    const body = parse(roomTypeCreateBody, bodyOf(req));
    const roomTypeId = await idOfCreate(ctx, req, p, 'room-type', [hotelId, body]);
    const a = acceptedOf(await send(req, { kind: 'createRoomType', hotelId, roomTypeId, ...body }), 'room type');
    if (a.kind !== 'roomType') throw new Error('assertion: createRoomType answered ' + a.kind);
    res.status(201).location(`/v1/hotels/${hotelId}/room-types/${roomTypeId}`).json(roomTypeJson(a.roomType));
  });

  r.get('/v1/hotels/:hotelId/room-types', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const q = parse(pageQuery, req.query, 'query');
    if (!(await ctx.reader.hotel(hotelId))) throw notFound('hotel');
    const all = await ctx.reader.roomTypes(hotelId);
    const after = decodeCursor(q.cursor);
    const rest = after ? all.filter((t) => t.id > after) : all;
    const limit = q.limit ?? pageLimitDefault;
    const items = rest.slice(0, limit);
    const nextCursor = rest.length > limit ? Buffer.from(items[items.length - 1].id).toString('base64url') : null;
    res.json({ items: items.map(roomTypeJson), nextCursor });
  });

  r.get('/v1/hotels/:hotelId/room-types/:roomTypeId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const t = await ctx.reader.roomType(hotelId, pathId(req.params.roomTypeId, 'roomTypeId'));
    if (!t) throw notFound('room type');
    res.json(roomTypeJson(t));
  });

  r.put('/v1/hotels/:hotelId/room-types/:roomTypeId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const roomTypeId = pathId(req.params.roomTypeId, 'roomTypeId');
    requireHotelAccess(req, hotelId, ['staff']);
    const patch = parse(roomTypeUpdateBody, bodyOf(req));
    const a = acceptedOf(await send(req, { kind: 'updateRoomType', hotelId, roomTypeId, patch }), 'change');
    if (a.kind !== 'roomType') throw new Error('assertion: updateRoomType answered ' + a.kind);
    res.json(roomTypeJson(a.roomType));
  });

  r.delete('/v1/hotels/:hotelId/room-types/:roomTypeId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const roomTypeId = pathId(req.params.roomTypeId, 'roomTypeId');
    requireHotelAccess(req, hotelId, ['staff']);
    acceptedOf(await send(req, { kind: 'deleteRoomType', hotelId, roomTypeId }), 'deletion');
    res.status(204).end();
  });

  // Inventory and rates ------------------------------------------------------------------------------------------

  r.put('/v1/hotels/:hotelId/room-types/:roomTypeId/inventory', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const roomTypeId = pathId(req.params.roomTypeId, 'roomTypeId');
    requireHotelAccess(req, hotelId, ['staff', 'partner']);
    const body = parse(inventoryBody, bodyOf(req));
    const a = acceptedOf(await send(req, { kind: 'setInventory', hotelId, roomTypeId, ...body }), 'inventory change');
    if (a.kind !== 'ari') throw new Error('assertion: setInventory answered ' + a.kind);
    res.json({ updatedNights: a.updatedNights, version: a.version });
  });

  r.put('/v1/hotels/:hotelId/room-types/:roomTypeId/rates', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    const roomTypeId = pathId(req.params.roomTypeId, 'roomTypeId');
    requireHotelAccess(req, hotelId, ['staff', 'partner']);
    const body = parse(ratesBody, bodyOf(req));
    const a = acceptedOf(await send(req, { kind: 'setRates', hotelId, roomTypeId, ...body }), 'rate change');
    if (a.kind !== 'ari') throw new Error('assertion: setRates answered ' + a.kind);
    res.json({ updatedNights: a.updatedNights, version: a.version });
  });

  // Occupancy pricing ----------------------------------------------------------------------------------------------

  r.put('/v1/hotels/:hotelId/pricing', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    const body = parse(pricingBody, bodyOf(req));
    const a = acceptedOf(await send(req, { kind: 'setPricing', hotelId, tiers: body.tiers }), 'pricing change');
    if (a.kind !== 'pricing') throw new Error('assertion: setPricing answered ' + a.kind);
    res.json({ tiers: a.tiers, version: a.version });
  });

  r.get('/v1/hotels/:hotelId/pricing', async (req, res) => {
    const p = await ctx.reader.pricing(pathId(req.params.hotelId, 'hotelId'));
    if (!p) throw notFound('hotel');
    res.json({ tiers: p.tiers, version: p.version });
  });

  // Rooms ----------------------------------------------------------------------------------------------------------

  const roomTypeMustExist = async (hotelId: string, roomTypeId: string) => {
    if (!(await ctx.reader.roomType(hotelId, roomTypeId))) throw notFound('room type');
  };

  r.post('/v1/hotels/:hotelId/rooms', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    const body = parse(roomCreateBody, bodyOf(req));
    if (!(await ctx.reader.hotel(hotelId))) throw notFound('hotel');
    await roomTypeMustExist(hotelId, body.roomTypeId);
    const room = { id: uuidv7(), hotelId, roomTypeId: body.roomTypeId, number: body.number, floor: body.floor ?? null };
    const saved = await ctx.reader.saveRoom(room, true);
    if (saved === 'no_room_type') throw notFound('room type');
    if (saved === 'duplicate') throw new ApiError('conflict', `room number ${body.number} already exists in this hotel`);
    res.status(201).location(`/v1/hotels/${hotelId}/rooms/${room.id}`).json(room);
  });

  r.get('/v1/hotels/:hotelId/rooms', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    const q = parse(pageQuery, req.query, 'query');
    if (!(await ctx.reader.hotel(hotelId))) throw notFound('hotel');
    res.json(await ctx.reader.rooms(hotelId, decodeCursor(q.cursor), q.limit ?? pageLimitDefault));
  });

  r.get('/v1/hotels/:hotelId/rooms/:roomId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    const room = await ctx.reader.room(hotelId, pathId(req.params.roomId, 'roomId'));
    if (!room) throw notFound('room');
    res.json(room);
  });

  r.put('/v1/hotels/:hotelId/rooms/:roomId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    const roomId = pathId(req.params.roomId, 'roomId');
    const body = parse(roomUpdateBody, bodyOf(req));
    const room = await ctx.reader.room(hotelId, roomId);
    if (!room) throw notFound('room');
    if (body.roomTypeId) await roomTypeMustExist(hotelId, body.roomTypeId);
    const next = {
      ...room,
      number: body.number ?? room.number,
      roomTypeId: body.roomTypeId ?? room.roomTypeId,
      floor: body.floor === undefined ? room.floor : body.floor,
    };
    const saved = await ctx.reader.saveRoom(next, false);
    if (saved === 'no_room_type') throw notFound('room type');
    if (saved === 'duplicate') throw new ApiError('conflict', `room number ${next.number} already exists in this hotel`);
    res.json(next);
  });

  r.delete('/v1/hotels/:hotelId/rooms/:roomId', async (req, res) => {
    const hotelId = pathId(req.params.hotelId, 'hotelId');
    requireHotelAccess(req, hotelId, ['staff']);
    if (!(await ctx.reader.deleteRoom(hotelId, pathId(req.params.roomId, 'roomId')))) throw notFound('room');
    res.status(204).end();
  });

  return r;
}
