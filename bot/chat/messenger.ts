/**
 * What the chat layer needs from Teams, as an interface: the Teams room implements it with
 * botbuilder; the domain never sees a Teams type.
 */
import type { Card } from '../../cards';
import type { ConversationPointer } from '../store';

export interface Messenger {
  /** Post a card to a conversation (in a channel, a new post). Returns a pointer to the message. */
  post(conversation: ConversationPointer, card: Card): Promise<ConversationPointer>;
  /** Replace a message's card for everyone who sees it. */
  update(message: ConversationPointer, card: Card): Promise<void>;
}

/** Who is talking, and where: taken from the activity by the Teams room, never from card data. */
export interface ChatContext {
  /** The tenant the conversation is about: the activity's own, or in MSP mode a customer tenant the person may see. */
  tenantId: string;
  /** The tenant of the Teams activity itself, when `tenantId` was switched to another tenant. */
  viewerTenantId?: string;
  /** `id`: Entra object id; `teamsId`: Teams' own id of the person for this bot ("29:…"). */
  user: { id: string; name: string; teamsId?: string };
  conversation: {
    kind: 'personal' | 'channel' | 'groupChat';
    ref: ConversationPointer;
    name?: string;
    /** Look the channel's name up from Teams (channel messages do not carry it). */
    resolveName?: () => Promise<string | undefined>;
  };
}

/** What the bot answers to a message. */
export interface ChatReply {
  card: Card;
  /** A file for the person who asked (personal chat only; Teams offers it with a file consent card). */
  file?: OfferedFile;
}

/** A file offered to one person: only an opaque reference leaves Vigil, the bytes stay on its shelf. */
export interface OfferedFile {
  ref: string;
  name: string;
  sizeInBytes: number;
  description: string;
}

/** What the bot answers to a card action: a card that replaces the clicked one, or a short message. */
export type ActionReply = { card: Card } | { message: string };

/** The conversation can no longer be written to (Teams 403 MessageWritesBlocked): stop trying, tell people. */
export class ConversationUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConversationUnreachableError';
  }
}
