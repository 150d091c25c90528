import {
  useId,
  type InputHTMLAttributes,
  type ReactNode,
  type Ref,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';

import { cn } from '@/utils/cn';

const control =
  'block w-full rounded-lg border border-zinc-300 bg-white px-3 py-2 text-sm text-zinc-900 placeholder:text-zinc-400 disabled:opacity-60 aria-[invalid=true]:border-red-500 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:placeholder:text-zinc-500';

type FieldFrame = {
  label: ReactNode;
  /** Shown under the control, in place of the hint, and announced with it. */
  error?: string | undefined;
  hint?: ReactNode;
  /** Classes of the wrapper (width, flex). */
  className?: string | undefined;
  /** Next to the control, e.g. a `<datalist>`. */
  extra?: ReactNode;
};

type Wiring = { id: string; 'aria-describedby': string | undefined; 'aria-invalid': boolean };

/** Splits a field's props into the frame (label, hint, error, wrapper) and the control's own. */
type ControlProps<P> = P extends unknown ? Omit<P, keyof FieldFrame> : never; // keeps a union (input | textarea) apart

function split<P extends FieldFrame>({ label, error, hint, className, extra, ...control }: P): [FieldFrame, ControlProps<P>] {
  return [{ label, error, hint, className, extra }, control as ControlProps<P>];
}

/** A label, a control and its hint or error, wired together for screen readers. */
function Field({ label, error, hint, className, extra, control: render }: FieldFrame & { control: (wiring: Wiring) => ReactNode }) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const shownHint = hint && !error;
  const describedBy = [shownHint ? hintId : null, error ? errorId : null].filter(Boolean).join(' ') || undefined;
  return (
    <div className={cn('space-y-1', className)}>
      <label htmlFor={id} className="block text-sm font-medium text-zinc-700 dark:text-zinc-300">
        {label}
      </label>
      {render({ id, 'aria-describedby': describedBy, 'aria-invalid': Boolean(error) })}
      {extra}
      {shownHint && (
        <p id={hintId} className="text-xs text-zinc-500 dark:text-zinc-400">
          {hint}
        </p>
      )}
      {error && (
        <p id={errorId} className="text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
    </div>
  );
}

type InputProps = InputHTMLAttributes<HTMLInputElement> & { multiline?: false; ref?: Ref<HTMLInputElement> };
type TextareaProps = TextareaHTMLAttributes<HTMLTextAreaElement> & { multiline: true; ref?: Ref<HTMLTextAreaElement> };

export type TextFieldProps = FieldFrame & {
  /** Classes of the control itself. */
  inputClassName?: string;
} & (InputProps | TextareaProps);

/**
 * A labelled text input (or `multiline` textarea) with its hint or error,
 * `aria-describedby` and `aria-invalid` set. Takes react-hook-form's
 * `register(name)` result as props.
 */
export function TextField({ inputClassName, ...all }: TextFieldProps) {
  const [frame, props] = split(all);
  return (
    <Field
      {...frame}
      control={(wiring) => {
        if (props.multiline) {
          const { multiline: _, ...rest } = props;
          return <textarea {...rest} {...wiring} className={cn(control, 'min-h-20', inputClassName)} />;
        }
        const { multiline: _, ...rest } = props;
        return <input {...rest} {...wiring} className={cn(control, 'h-10', inputClassName)} />;
      }}
    />
  );
}

export type SelectFieldProps = FieldFrame &
  SelectHTMLAttributes<HTMLSelectElement> & { ref?: Ref<HTMLSelectElement>; inputClassName?: string };

/** A labelled `<select>`, wired like `TextField`. */
export function SelectField({ inputClassName, ...all }: SelectFieldProps) {
  const [frame, props] = split(all);
  return (
    <Field
      {...frame}
      control={(wiring) => <select {...props} {...wiring} className={cn(control, 'h-10', inputClassName)} />}
    />
  );
}

/** A bare text input for places without a visible label (it then needs `aria-label`). */
export function Input({
  className,
  ref,
  ...props
}: InputHTMLAttributes<HTMLInputElement> & { ref?: Ref<HTMLInputElement> }) {
  return <input ref={ref} className={cn(control, 'h-10', className)} {...props} />;
}
