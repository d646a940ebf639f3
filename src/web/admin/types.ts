/** The API's answers as the admin console reads them (dates arrive as ISO strings). */
import type { Role } from '../../shared/events.js';

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  studentNumber: string | null;
  active: boolean;
  hasPassword: boolean;
  mustChangePassword: boolean;
}

export interface Subject {
  id: string;
  code: string;
  name: string;
  teacherIds: string[];
  location: { lat: number; lon: number; radiusM: number } | null;
  allowedIpRanges: string[];
}

/** Largest page the API serves (PAGE_MAX). */
export const PAGE_MAX = 200;
