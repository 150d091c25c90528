import { SelectField, TextField } from '@/components/ui/form';
import { CATEGORIES } from '@/config/constants';

type RoomsFiltersProps = {
  q: string;
  category: string;
  onQChange: (q: string) => void;
  onCategoryChange: (category: string) => void;
};

export function RoomsFilters({ q, category, onQChange, onCategoryChange }: RoomsFiltersProps) {
  return (
    <form role="search" className="flex flex-col gap-3 sm:flex-row sm:items-end" onSubmit={(e) => e.preventDefault()}>
      <TextField
        label="Search streams"
        className="flex-1"
        type="search"
        placeholder="Search by title"
        value={q}
        maxLength={100}
        onChange={(e) => onQChange(e.target.value)}
      />
      <SelectField label="Category" className="sm:w-48" value={category} onChange={(e) => onCategoryChange(e.target.value)}>
            <option value="">All categories</option>
            {CATEGORIES.map((c) => (
              <option key={c} value={c} className="capitalize">
                {c[0]?.toUpperCase()}
                {c.slice(1)}
              </option>
            ))}
      </SelectField>
    </form>
  );
}
