import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";

const STORAGE_KEY = "actlab.apiKey";
/** Dispatched on window when the API answers 401 to a stored key (revoked or wrong). */
export const UNAUTHORIZED_EVENT = "actlab:unauthorized";

interface Auth {
  apiKey: string | null;
  /** Why the user was signed out, shown on the sign-in screen. */
  notice: string | null;
  signIn(key: string): void;
  signOut(notice?: string): void;
}

const AuthContext = createContext<Auth | null>(null);

function readStoredKey(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled (private mode): the key lives for this tab only
  }
}

/** Keeps the API key in localStorage so a reload stays signed in. */
export function AuthProvider({
  children,
  onKeyChange,
}: {
  children: ReactNode;
  /**
   * Called before the key changes, e.g. to drop cached data: another key may belong to another
   * tenant. It runs synchronously in signIn/signOut — clearing in an effect after the first
   * render would also drop the queries that render just started.
   */
  onKeyChange?: () => void;
}) {
  const [apiKey, setApiKey] = useState<string | null>(readStoredKey);
  const [notice, setNotice] = useState<string | null>(null);
  const signIn = useCallback(
    (key: string) => {
      onKeyChange?.();
      setNotice(null);
      try {
        window.localStorage.setItem(STORAGE_KEY, key);
      } catch {
        // see readStoredKey
      }
      setApiKey(key);
    },
    [onKeyChange],
  );
  const signOut = useCallback(
    (why?: string) => {
      onKeyChange?.();
      setNotice(why ?? null);
      try {
        window.localStorage.removeItem(STORAGE_KEY);
      } catch {
        // see readStoredKey
      }
      setApiKey(null);
    },
    [onKeyChange],
  );
  useEffect(() => {
    const onUnauthorized = () =>
      signOut("The API no longer accepts this key (401). Sign in with a valid key.");
    window.addEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
    return () => window.removeEventListener(UNAUTHORIZED_EVENT, onUnauthorized);
  }, [signOut]);
  const value = useMemo(() => ({ apiKey, notice, signIn, signOut }), [apiKey, notice, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error("useAuth outside <AuthProvider>");
  return auth;
}

/** The signed-in key; only used below the sign-in gate, so it is never null there. */
export function useApiKey(): string {
  const { apiKey } = useAuth();
  if (!apiKey) throw new Error("not signed in");
  return apiKey;
}
