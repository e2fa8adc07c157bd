import { useId, useState } from 'react';

export interface NumberFieldProps {
  label: string;
  value: number;
  onChange: (value: number) => void;
  min?: number;
  max?: number;
  step?: number;
  integer?: boolean;
  testId?: string;
  hint?: string;
}

/** A labelled number input that keeps invalid text visible and commits only valid numbers in range. */
export function NumberField({ label, value, onChange, min, max, step, integer = false, testId, hint }: NumberFieldProps) {
  const id = useId();
  const hintId = useId();
  const [text, setText] = useState<string | null>(null);
  const displayed = text ?? String(value);
  const parsed = Number(displayed);
  const invalid =
    displayed.trim() === '' || !Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || (min !== undefined && parsed < min) || (max !== undefined && parsed > max);

  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        data-testid={testId}
        value={displayed}
        min={min}
        max={max}
        step={step ?? (integer ? 1 : 'any')}
        aria-invalid={invalid}
        aria-describedby={hint ? hintId : undefined}
        onChange={(event) => {
          const next = event.target.value;
          const number = Number(next);
          const valid = next.trim() !== '' && Number.isFinite(number) && (!integer || Number.isInteger(number)) && (min === undefined || number >= min) && (max === undefined || number <= max);
          if (valid) {
            setText(null);
            onChange(number);
          } else {
            setText(next);
          }
        }}
        onBlur={() => setText(null)}
      />
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}
