import { SelectField, TextField } from '@/components/ui/form';
import { CATEGORIES } from '@/config/constants';
import type { RoomSort } from '@/features/rooms/utils/sort-rooms';

export type PriceFilter = '' | 'free' | 'paid';

type RoomsFiltersProps = {
  q: string;
  category: string;
  price: PriceFilter;
  sort: RoomSort;
  onQChange: (q: string) => void;
  onCategoryChange: (category: string) => void;
  onPriceChange: (price: PriceFilter) => void;
  onSortChange: (sort: RoomSort) => void;
};

export function RoomsFilters({
  q,
  category,
  price,
  sort,
  onQChange,
  onCategoryChange,
  onPriceChange,
  onSortChange,
}: RoomsFiltersProps) {
  return (
    <form role="search" className="flex flex-col gap-3 sm:flex-row sm:flex-wrap sm:items-end" onSubmit={(e) => e.preventDefault()}>
      <TextField
        label="Search streams"
        className="flex-1 sm:min-w-48"
        type="search"
        placeholder="Search by title"
        value={q}
        maxLength={100}
        onChange={(e) => onQChange(e.target.value)}
      />
      <SelectField label="Category" className="sm:w-44" value={category} onChange={(e) => onCategoryChange(e.target.value)}>
        <option value="">All categories</option>
        {CATEGORIES.map((c) => (
          <option key={c} value={c} className="capitalize">
            {c[0]?.toUpperCase()}
            {c.slice(1)}
          </option>
        ))}
      </SelectField>
      <SelectField
        label="Price"
        className="sm:w-40"
        value={price}
        onChange={(e) => onPriceChange(e.target.value === 'free' || e.target.value === 'paid' ? e.target.value : '')}
      >
        <option value="">Free and paid</option>
        <option value="free">Free</option>
        <option value="paid">Paid</option>
      </SelectField>
      <SelectField
        label="Sort by"
        className="sm:w-40"
        value={sort}
        onChange={(e) => onSortChange(e.target.value === 'newest' ? 'newest' : 'viewers')}
      >
        <option value="viewers">Most viewers</option>
        <option value="newest">Newest</option>
      </SelectField>
    </form>
  );
}
